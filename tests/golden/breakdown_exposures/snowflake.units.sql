WITH "exposure_groups" AS (
  SELECT
    CAST("exposures"."variant_id" AS VARCHAR) AS "variant_id",
    "exposures"."unit_id" AS "unit_id",
    "exposures"."country" AS "country",
    "exposures"."platform" AS "platform",
    COUNT(*) AS "exposure_count",
    MIN("exposures"."timestamp") AS "exposure_timestamp"
  FROM "exposures" AS "exposures"
  WHERE
    "exposures"."exp_id" = 'exp-1'
    AND NOT "exposures"."unit_id" IS NULL
    AND NOT "exposures"."variant_id" IS NULL
    AND NOT "exposures"."timestamp" IS NULL
    AND "exposures"."timestamp" >= CAST('2024-03-01 00:00:00' AS TIMESTAMP)
    AND "exposures"."timestamp" < CAST('2024-03-08 00:00:00' AS TIMESTAMP)
  GROUP BY
    CAST("exposures"."variant_id" AS VARCHAR),
    "exposures"."unit_id",
    "exposures"."country",
    "exposures"."platform"
), "exposure_rows" AS (
  SELECT
    "variant_id",
    "unit_id",
    "exposure_count",
    "exposure_timestamp",
    MIN("exposure_timestamp") OVER (PARTITION BY "unit_id") AS "first_exposure",
    CASE
      WHEN MIN("variant_id") OVER (PARTITION BY "unit_id") = MAX("variant_id") OVER (PARTITION BY "unit_id")
      THEN "variant_id"
    END AS "unit_variant"
  FROM "exposure_groups"
), "exposed_units" AS (
  SELECT
    "unit_variant" AS "variant_id",
    "unit_id",
    MIN("first_exposure") AS "first_exposure"
  FROM "exposure_rows"
  WHERE
    NOT "unit_variant" IS NULL
  GROUP BY
    "unit_variant",
    "unit_id"
), "attributed_events" AS (
  SELECT
    COALESCE("unit_variant", '@multiple:' || "variant_id") AS "variant_id",
    "unit_id",
    'exposure' AS "goal",
    "exposure_count" AS "cnt",
    CAST(NULL AS DOUBLE) AS "value"
  FROM "exposure_rows"
  UNION ALL
  SELECT
    "exposed_units"."variant_id" AS "variant_id",
    "exposed_units"."unit_id" AS "unit_id",
    "events"."event" AS "goal",
    1 AS "cnt",
    "events"."value" AS "value"
  FROM "events" AS "events"
  JOIN "exposed_units"
    ON "events"."unit_id" = "exposed_units"."unit_id"
  WHERE
    "events"."event" IN ('click', 'purchase')
    AND "events"."timestamp" >= "exposed_units"."first_exposure"
    AND "events"."timestamp" < "exposed_units"."first_exposure" + INTERVAL '259200 SECOND'
    AND "events"."timestamp" >= CAST('2024-03-01 00:00:00' AS TIMESTAMP)
    AND "events"."timestamp" < CAST('2024-03-08 00:00:00' AS TIMESTAMP)
), "experiment_events" AS (
  SELECT
    "events"."variant_id" AS "variant_id",
    "events"."unit_id" AS "unit_id",
    "events"."cnt" AS "event_cnt",
    "events"."value" AS "event_value",
    CASE
      WHEN "events"."goal" = 'exposure'
      THEN 0
      WHEN "events"."goal" = 'click'
      THEN 1
      WHEN "events"."goal" = 'purchase'
      THEN 2
    END AS "term_index"
  FROM "attributed_events" AS "events"
  WHERE
    "events"."goal" IN ('exposure', 'click', 'purchase')
), "unit_segments" AS (
  SELECT
    "unit_id",
    "segment_0",
    "segment_1"
  FROM (
    SELECT
      "unit_id",
      "country" AS "segment_0",
      "platform" AS "segment_1",
      ROW_NUMBER() OVER (
        PARTITION BY "unit_id"
        ORDER BY "exposure_timestamp", "country", "platform", "variant_id"
      ) AS "segment_rank"
    FROM "exposure_groups"
  ) AS "ranked_segments"
  WHERE
    "segment_rank" = 1
), "unit_terms" AS (
  SELECT
    "variant_id",
    "term_index",
    "unit_id",
    COALESCE(SUM("event_cnt"), 0) AS "unit_count",
    COALESCE(SUM("event_value"), 0) AS "unit_value"
  FROM "experiment_events"
  WHERE
    NOT "term_index" IS NULL
  GROUP BY
    "variant_id",
    "term_index",
    "unit_id"
), "segmented_unit_terms" AS (
  SELECT
    "unit_terms".*,
    "unit_segments"."segment_0",
    "unit_segments"."segment_1"
  FROM "unit_terms"
  LEFT JOIN "unit_segments"
    ON "unit_terms"."unit_id" = "unit_segments"."unit_id"
)
SELECT
  'exp-1' AS "exp_id",
  "variant_id" AS "exp_variant_id",
  'user' AS "unit_type",
  CASE "term_index" WHEN 0 THEN 'global' WHEN 1 THEN 'unit' WHEN 2 THEN 'unit' END AS "agg_type",
  CASE "term_index" WHEN 0 THEN 'exposure' WHEN 1 THEN 'click' WHEN 2 THEN 'purchase' END AS "goal",
  "unit_id" AS "unit_id",
  "segment_0" AS "country",
  "segment_1" AS "platform",
  "unit_count" AS "count",
  "unit_value" AS "sum_value"
FROM "segmented_unit_terms"
