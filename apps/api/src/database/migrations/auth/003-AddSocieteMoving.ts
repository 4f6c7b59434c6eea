import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * AUTH: `societes.moving_since`, set while `db:societe:move` copies the société's database to
 * another server. The app reads it on every tenant request (with the membership, in the same
 * query) and answers 503 with Retry-After instead of opening a database that is about to change.
 * NULL means the société is served normally.
 */
export class AddSocieteMoving1751328000016 implements MigrationInterface {
  readonly name = 'AddSocieteMoving1751328000016';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE societes ADD COLUMN moving_since timestamptz');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE societes DROP COLUMN moving_since');
  }
}
