-- The GTIN1 database as the sandbox's dumps hold it (a small, deterministic
-- stand-in): GS1 company prefixes, the products registered under them, and
-- their images (the keys of the replicated media/ objects).
-- Regenerate the dump with:
--   DUMP_COMPRESS=0 scripts/make-pg-dump-asset assets/sandbox/gtin1-schema.sql assets/sandbox/gtin1-backup.dump gtin1
-- The newest change is at 2026-11-22 01:45 UTC, just before the Sunday
-- 02:00 dump. The sandbox moves these times to each dump's own time
-- (`content_as_of` in gtin1.toml), so keep the dump uncompressed.

create table companies (
    id serial primary key,
    gs1_prefix text not null unique,
    name text not null,
    created_at timestamptz not null
);

create table products (
    gtin char(13) primary key,
    company_id int not null references companies(id),
    name text not null,
    brand text not null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index products_updated_at on products (updated_at);

create table product_images (
    id serial primary key,
    gtin char(13) not null references products(gtin),
    media_key text not null,
    uploaded_at timestamptz not null
);

insert into companies (gs1_prefix, name, created_at)
select lpad((4006381 + n)::text, 7, '0'), 'Company ' || n,
       timestamptz '2024-01-01 00:00+00' + n * interval '3 days'
from generate_series(1, 40) n;

insert into products (gtin, company_id, name, brand, created_at, updated_at)
select c.gs1_prefix || lpad(p::text, 5, '0') || (p % 10)::text,
       c.id,
       'Product ' || c.id || '-' || p,
       'Brand ' || (c.id % 12),
       timestamptz '2025-01-01 00:00+00' + (c.id * 50 + p) * interval '3 hours',
       timestamptz '2026-11-22 01:45+00' - ((c.id * 50 + p) % 997) * interval '37 minutes'
from companies c, generate_series(1, 50) p;

insert into product_images (gtin, media_key, uploaded_at)
select gtin, 'media/products/' || substr(md5(gtin), 1, 8) || '/1.jpg', updated_at
from products
order by gtin
limit 1200;
