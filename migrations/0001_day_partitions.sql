-- fairway_ensure_day_partitions(parent, from_day, to_day): make sure `parent` (a table partitioned by RANGE on a
-- timestamptz column) has one partition per UTC day for every day from from_day to to_day, both included.
-- Partitions are named <parent>_pYYYYMMDD and cover [day 00:00 UTC, next day 00:00 UTC).
-- Returns how many partitions it created (0 when all existed).
--
-- Idempotent and safe under concurrent callers: days that exist are skipped without locking; creators of one
-- parent's partitions are serialised by a transaction-level advisory lock, and a partition that appears anyway
-- (created outside this function) is tolerated. Creating a partition briefly locks the parent exclusively, so
-- call this ahead of need, outside a transaction that has already written to the parent.
CREATE OR REPLACE FUNCTION fairway_ensure_day_partitions(parent regclass, from_day date, to_day date)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
  parent_schema name;
  parent_name name;
  d date;
  part_name text;
  locked boolean := false;
  created integer := 0;
BEGIN
  IF parent IS NULL OR from_day IS NULL OR to_day IS NULL THEN
    RAISE EXCEPTION 'fairway_ensure_day_partitions: parent, from_day and to_day are required'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF to_day < from_day THEN
    RAISE EXCEPTION 'fairway_ensure_day_partitions: to_day % is before from_day %', to_day, from_day
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- A guard against a typo creating thousands of tables; ten years of days is plenty for one call.
  IF to_day - from_day > 3660 THEN
    RAISE EXCEPTION 'fairway_ensure_day_partitions: % days requested, at most 3661 per call', to_day - from_day + 1
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  SELECT n.nspname, c.relname INTO parent_schema, parent_name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.oid = parent AND c.relkind = 'p';
  IF NOT FOUND THEN
    RAISE EXCEPTION 'fairway_ensure_day_partitions: % is not a partitioned table', parent
      USING ERRCODE = 'wrong_object_type';
  END IF;

  d := from_day;
  WHILE d <= to_day LOOP
    part_name := parent_name || '_p' || to_char(d, 'YYYYMMDD');
    IF to_regclass(format('%I.%I', parent_schema, part_name)) IS NULL THEN
      IF NOT locked THEN
        -- Key: ('FWAY', parent oid). Held until the caller's transaction ends.
        PERFORM pg_advisory_xact_lock(1180123481, parent::oid::integer);
        locked := true;
      END IF;
      BEGIN
        EXECUTE format(
          'CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES FROM (%L) TO (%L)',
          parent_schema, part_name, parent_schema, parent_name,
          to_char(d, 'YYYY-MM-DD') || ' 00:00:00+00', to_char(d + 1, 'YYYY-MM-DD') || ' 00:00:00+00'
        );
        created := created + 1;
      EXCEPTION WHEN duplicate_table OR unique_violation THEN
        -- Another session created it between our check and our CREATE: that is the state we wanted.
        NULL;
      END;
    END IF;
    d := d + 1;
  END LOOP;
  RETURN created;
END;
$$;
