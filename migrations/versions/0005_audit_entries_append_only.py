"""audit entries are append-only in the database too: UPDATE and DELETE raise

The application already refuses to change an entry (portal.admin.models); these
triggers refuse it for anyone with a database connection, raw SQL included. A later
migration that really must rewrite entries has to drop the trigger first, on record.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

MESSAGE = 'audit_entries is append-only'


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""
            CREATE FUNCTION audit_entries_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
            END;
            $$
        """)
        op.execute("""
            CREATE TRIGGER audit_entries_append_only
            BEFORE UPDATE OR DELETE ON audit_entries
            FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()
        """)
        op.execute("""
            CREATE TRIGGER audit_entries_no_truncate
            BEFORE TRUNCATE ON audit_entries
            FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()
        """)
    else:
        for event in ('UPDATE', 'DELETE'):
            op.execute(f"""
                CREATE TRIGGER audit_entries_no_{event.lower()}
                BEFORE {event} ON audit_entries
                BEGIN
                    SELECT RAISE(ABORT, '{MESSAGE}');
                END
            """)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS audit_entries_no_truncate ON audit_entries')
        op.execute('DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries')
        op.execute('DROP FUNCTION IF EXISTS audit_entries_append_only()')
    else:
        for event in ('update', 'delete'):
            op.execute(f'DROP TRIGGER IF EXISTS audit_entries_no_{event}')
