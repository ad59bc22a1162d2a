-- CPAM's calculations, as the sandbox's PITR set holds them (a small,
-- deterministic stand-in). 500 rows exist when the base backup is taken.
create table calculations (
    id serial primary key,
    account text not null,
    amount numeric(12, 2) not null,
    created_at timestamptz not null default clock_timestamp()
);
insert into calculations (account, amount)
select 'ACC-' || lpad((n % 37)::text, 4, '0'), (n * 7919 % 100000) / 100.0
from generate_series(1, 500) n;
