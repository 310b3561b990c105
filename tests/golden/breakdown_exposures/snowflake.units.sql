WITH "experiment_exposures" AS (
  SELECT
    CAST("exposures"."variant_id" AS VARCHAR) AS "variant_id",
    "exposures"."unit_id" AS "unit_id",
    "exposures"."country" AS "country",
    "exposures"."platform" AS "platform",
    "exposures"."timestamp" AS "exposure_timestamp"
  FROM "exposures" AS "exposures"
  WHERE
    "exposures"."exp_id" = 'exp-1'
    AND NOT "exposures"."unit_id" IS NULL
    AND NOT "exposures"."variant_id" IS NULL
    AND NOT "exposures"."timestamp" IS NULL
    AND "exposures"."timestamp" >= CAST('2024-03-01 00:00:00' AS TIMESTAMP)
    AND "exposures"."timestamp" < CAST('2024-03-08 00:00:00' AS TIMESTAMP)
), "exposed_units" AS (
  SELECT
    "unit_id",
    CASE WHEN MIN("variant_id") = MAX("variant_id") THEN MIN("variant_id") END AS "unit_variant",
    MIN("exposure_timestamp") AS "first_exposure"
  FROM "experiment_exposures"
  GROUP BY
    "unit_id"
), "attributed_events" AS (
  SELECT
    "experiment_exposures"."variant_id" AS "variant_id",
    "experiment_exposures"."unit_id" AS "unit_id",
    'exposure' AS "goal",
    1 AS "cnt",
    CAST(NULL AS DOUBLE) AS "value",
    CASE WHEN "exposed_units"."unit_variant" IS NULL THEN 1 ELSE 0 END AS "excluded"
  FROM "experiment_exposures"
  JOIN "exposed_units"
    ON "experiment_exposures"."unit_id" = "exposed_units"."unit_id"
  UNION ALL
  SELECT
    "exposed_units"."unit_variant" AS "variant_id",
    "exposed_units"."unit_id" AS "unit_id",
    "events"."event" AS "goal",
    1 AS "cnt",
    "events"."value" AS "value",
    0 AS "excluded"
  FROM "events" AS "events"
  JOIN "exposed_units"
    ON "events"."unit_id" = "exposed_units"."unit_id"
    AND NOT "exposed_units"."unit_variant" IS NULL
  WHERE
    "events"."event" IN ('click', 'purchase')
    AND "events"."timestamp" >= "exposed_units"."first_exposure"
    AND "events"."timestamp" < "exposed_units"."first_exposure" + INTERVAL '259200 SECOND'
    AND "events"."timestamp" >= CAST('2024-03-01 00:00:00' AS TIMESTAMP)
    AND "events"."timestamp" < CAST('2024-03-08 00:00:00' AS TIMESTAMP)
), "experiment_events" AS (
  SELECT
    "events"."variant_id" AS "variant_id",
    "events"."excluded" AS "excluded",
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
    FROM "experiment_exposures"
  ) AS "ranked_segments"
  WHERE
    "segment_rank" = 1
), "unit_terms" AS (
  SELECT
    "variant_id",
    "excluded",
    "term_index",
    "unit_id",
    COALESCE(SUM("event_cnt"), 0) AS "unit_count",
    COALESCE(SUM("event_value"), 0) AS "unit_value"
  FROM "experiment_events"
  WHERE
    NOT "term_index" IS NULL
  GROUP BY
    "variant_id",
    "excluded",
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
  CASE WHEN "excluded" = 1 THEN '@multiple:' || "variant_id" ELSE "variant_id" END AS "exp_variant_id",
  'user' AS "unit_type",
  CASE "term_index" WHEN 0 THEN 'global' WHEN 1 THEN 'unit' WHEN 2 THEN 'unit' END AS "agg_type",
  CASE "term_index" WHEN 0 THEN 'exposure' WHEN 1 THEN 'click' WHEN 2 THEN 'purchase' END AS "goal",
  "unit_id" AS "unit_id",
  "segment_0" AS "country",
  "segment_1" AS "platform",
  "unit_count" AS "count",
  "unit_value" AS "sum_value"
FROM "segmented_unit_terms"
