-- After the target time: the bad change a PITR must undo (a batch of
-- corrupt calculations and a deletion).
insert into calculations (account, amount)
select 'ACC-BAD', -1 from generate_series(1, 30);
delete from calculations where id <= 100;
