-- After the base backup and before the target time: 120 more rows, in WAL
-- only. A PITR to the target keeps them.
insert into calculations (account, amount)
select 'ACC-' || lpad((n % 37)::text, 4, '0'), (n * 104729 % 100000) / 100.0
from generate_series(501, 620) n;
