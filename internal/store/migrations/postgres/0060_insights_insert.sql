-- 0060_insights_insert (PostgreSQL): nothing to do. SQLite's 0060 stops its
-- insert trigger from writing each new call's row twice; PostgreSQL's
-- summary columns are STORED generated columns (0020/0021), computed as the
-- row is written. Kept so both stores have the same migration versions.
SELECT 1;
