import { Argument, Command, Option } from 'commander';

/** One option as `--help` shows it: what commander needs to render it, nothing it needs to parse. */
type HelpOption = {
  flags: string;
  description: string;
  defaultValue?: unknown;
  defaultValueDescription?: string;
  choices?: string[];
  environmentVariable?: string;
  hidden: boolean;
};

type HelpArgument = {
  name: string;
  description: string;
  required: boolean;
  variadic: boolean;
  defaultValue?: unknown;
  choices?: string[];
};

type HelpCommand = {
  name: string;
  description: string;
  aliases: string[];
  arguments: HelpArgument[];
  options: HelpOption[];
  /** Text the command adds after its help (addHelpText 'after'), without its final newline. */
  after?: string;
};

/** The CLI's commands as `--help` shows them, written at build time from the decorated commands. */
export type HelpTable = { version: 1; commands: HelpCommand[] };

/** Where the build writes the table, next to this file in dist. */
export const HELP_TABLE_FILE = 'help-table.json';

function describeOption(option: Option): HelpOption {
  return {
    flags: option.flags,
    description: option.description,
    defaultValue: option.defaultValue,
    defaultValueDescription: option.defaultValueDescription,
    choices: option.argChoices,
    environmentVariable: option.envVar,
    hidden: option.hidden,
  };
}

function describeArgument(argument: Argument): HelpArgument {
  return {
    name: argument.name(),
    description: argument.description,
    required: argument.required,
    variadic: argument.variadic,
    defaultValue: argument.defaultValue,
    choices: argument.argChoices,
  };
}

/** Reads the table off the program nest-commander built from the decorators. */
export function describeProgram(program: Command): HelpTable {
  return {
    version: 1,
    commands: program.commands.map((command) => ({
      name: command.name(),
      description: command.description(),
      aliases: command.aliases(),
      arguments: command.registeredArguments.map(describeArgument),
      options: command.options.map(describeOption),
      after: textAfterHelp(command),
    })),
  };
}

/** What the command prints after commander's own help: its 'after' help text, as registered. */
function textAfterHelp(command: Command): string | undefined {
  let written = '';
  command.configureOutput({ writeOut: (text) => (written += text) });
  command.outputHelp();
  const after = written.slice(command.helpInformation().length).replace(/\n$/, '');
  return after === '' ? undefined : after;
}

function rebuildOption(described: HelpOption): Option {
  const option = new Option(described.flags, described.description);
  if (described.defaultValue !== undefined)
    option.default(described.defaultValue, described.defaultValueDescription);
  if (described.choices) option.choices(described.choices);
  if (described.environmentVariable) option.env(described.environmentVariable);
  return option.hideHelp(described.hidden);
}

function rebuildArgument(described: HelpArgument): Argument {
  const flags = described.variadic ? `${described.name}...` : described.name;
  const argument = new Argument(described.required ? `<${flags}>` : `[${flags}]`, described.description);
  if (described.defaultValue !== undefined) argument.default(described.defaultValue);
  if (described.choices) argument.choices(described.choices);
  return argument;
}

/**
 * A commander program that renders the same help as the full CLI, without its actions: building it
 * costs only commander, where the full CLI builds the Nest context with every service and entity.
 */
export function rebuildProgram(table: HelpTable, name: string): Command {
  const program = new Command(name);
  for (const described of table.commands) {
    const command = new Command(described.name).description(described.description);
    for (const alias of described.aliases) command.alias(alias);
    for (const argument of described.arguments) command.addArgument(rebuildArgument(argument));
    for (const option of described.options) command.addOption(rebuildOption(option));
    if (described.after !== undefined) command.addHelpText('after', described.after);
    program.addCommand(command);
  }
  return program;
}
