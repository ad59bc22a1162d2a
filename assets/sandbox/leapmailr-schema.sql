-- The LeapMailR database as the sandbox's daily dumps hold it (a small,
-- deterministic stand-in): accounts, their email templates and contacts,
-- and the log of sent messages.
-- Regenerate the asset (a gzipped custom-format dump, as LeapMailR's
-- backup script uploads it) with:
--   scripts/make-pg-dump-asset assets/sandbox/leapmailr-schema.sql /tmp/leapmailr.dump leapmailr
--   gzip -9 -n -c /tmp/leapmailr.dump > assets/sandbox/leapmailr-backup.sql.gz

create table users (
    id serial primary key,
    email text not null unique,
    created_at timestamptz not null
);

create table templates (
    id serial primary key,
    user_id int not null references users(id),
    name text not null,
    subject text not null,
    body text not null
);

create table contacts (
    id serial primary key,
    user_id int not null references users(id),
    email text not null,
    unique (user_id, email)
);

create table email_logs (
    id bigserial primary key,
    template_id int not null references templates(id),
    contact_id int not null references contacts(id),
    status text not null check (status in ('sent', 'bounced', 'deferred')),
    sent_at timestamptz not null
);
create index email_logs_sent_at on email_logs (sent_at);

insert into users (email, created_at)
select 'owner' || g || '@example.com', timestamptz '2025-01-01 00:00+00' + g * interval '3 days'
from generate_series(1, 60) g;

insert into templates (user_id, name, subject, body)
select 1 + (g % 60), 'template-' || g, 'Hello from template ' || g, 'Dear {{name}}, ...'
from generate_series(1, 180) g;

insert into contacts (user_id, email)
select 1 + (g % 60), 'contact' || g || '@example.org'
from generate_series(1, 1500) g;

insert into email_logs (template_id, contact_id, status, sent_at)
select 1 + (g % 180), 1 + (g % 1500),
       (array['sent', 'sent', 'sent', 'bounced', 'deferred'])[1 + g % 5],
       timestamptz '2026-11-23 01:55+00' - g * interval '7 minutes'
from generate_series(1, 5000) g;
