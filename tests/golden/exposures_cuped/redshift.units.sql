WITH "experiment_exposures" AS (
  SELECT
    CAST("exposures"."variant_id" AS VARCHAR(MAX)) AS "variant_id",
    "exposures"."unit_id" AS "unit_id",
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
    CAST(NULL AS DOUBLE PRECISION) AS "value",
    CASE WHEN "exposed_units"."unit_variant" IS NULL THEN 1 ELSE 0 END AS "excluded",
    0 AS "pre_period",
    CAST(NULL AS VARCHAR(MAX)) AS "product"
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
    0 AS "excluded",
    CASE WHEN "events"."timestamp" < "exposed_units"."first_exposure" THEN 1 ELSE 0 END AS "pre_period",
    "events"."product" AS "product"
  FROM "events" AS "events"
  JOIN "exposed_units"
    ON "events"."unit_id" = "exposed_units"."unit_id"
    AND NOT "exposed_units"."unit_variant" IS NULL
  WHERE
    "events"."event" IN ('click', 'purchase', 'view')
    AND "events"."timestamp" >= "exposed_units"."first_exposure" - INTERVAL '1209600 SECOND'
    AND "events"."timestamp" >= CAST('2024-02-16 00:00:00' AS TIMESTAMP)
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
      THEN CASE WHEN "events"."product" = 'p_1' THEN 2 END
      WHEN "events"."goal" = 'view'
      THEN 3
    END AS "term_index",
    "events"."pre_period" AS "pre_period",
    CASE WHEN "events"."goal" = 'view' AND "events"."pre_period" = 0 THEN 1 ELSE 0 END AS "unit_filter_0"
  FROM "attributed_events" AS "events"
  WHERE
    (
      (
        "events"."goal" IN ('exposure', 'click', 'view')
        OR (
          "events"."goal" = 'purchase' AND "events"."product" = 'p_1'
        )
      )
      OR (
        "events"."goal" = 'view' AND "events"."pre_period" = 0
      )
    )
), "unit_terms" AS (
  SELECT
    "variant_id",
    "excluded",
    "term_index",
    "unit_id",
    COALESCE(SUM(CASE WHEN "pre_period" = 0 THEN "event_cnt" END), 0) AS "unit_count",
    COALESCE(SUM(CASE WHEN "pre_period" = 0 THEN "event_value" END), 0) AS "unit_value",
    COALESCE(SUM(CASE WHEN "pre_period" = 1 THEN "event_cnt" END), 0) AS "pre_count",
    COALESCE(SUM(CASE WHEN "pre_period" = 1 THEN "event_value" END), 0) AS "pre_value",
    MAX("unit_filter_0") AS "unit_filter_0"
  FROM "experiment_events"
  GROUP BY
    "variant_id",
    "excluded",
    "term_index",
    "unit_id"
), "passing_units" AS (
  SELECT
    "variant_id",
    "excluded",
    "unit_id"
  FROM "unit_terms"
  GROUP BY
    "variant_id",
    "excluded",
    "unit_id"
  HAVING
    MAX("unit_filter_0") = 1
), "filtered_unit_terms" AS (
  SELECT
    "unit_terms"."variant_id" AS "variant_id",
    "unit_terms"."excluded" AS "excluded",
    "term_index",
    "unit_terms"."unit_id" AS "unit_id",
    "unit_count",
    "unit_value",
    "pre_count",
    "pre_value"
  FROM "unit_terms"
  JOIN "passing_units"
    ON "unit_terms"."variant_id" = "passing_units"."variant_id"
    AND "unit_terms"."unit_id" = "passing_units"."unit_id"
)
SELECT
  'exp-1' AS "exp_id",
  CASE WHEN "excluded" = 1 THEN '@multiple:' || "variant_id" ELSE "variant_id" END AS "exp_variant_id",
  'user' AS "unit_type",
  CASE "term_index"
    WHEN 0
    THEN 'global'
    WHEN 1
    THEN 'unit'
    WHEN 2
    THEN 'unit'
    WHEN 3
    THEN 'unit'
  END AS "agg_type",
  CASE "term_index"
    WHEN 0
    THEN 'exposure'
    WHEN 1
    THEN 'click'
    WHEN 2
    THEN 'purchase'
    WHEN 3
    THEN 'view'
  END AS "goal",
  "unit_id" AS "unit_id",
  CASE "term_index" WHEN 0 THEN '' WHEN 1 THEN '' WHEN 2 THEN 'p_1' WHEN 3 THEN '' END AS "product",
  "unit_count" AS "count",
  "unit_value" AS "sum_value",
  "pre_count" AS "pre_count",
  "pre_value" AS "pre_sum_value"
FROM "filtered_unit_terms"
WHERE
  NOT "term_index" IS NULL
