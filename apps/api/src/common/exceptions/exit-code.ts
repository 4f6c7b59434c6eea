/** Exit codes of the command-line contract (DESIGN.md section 3). */
export enum ExitCode {
  Success = 0,
  Failure = 1,
  Usage = 2,
  LockHeld = 3,
  Interrupted = 130,
  Terminated = 143,
}
