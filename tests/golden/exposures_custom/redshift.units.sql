WITH "experiment_exposures" AS (
  SELECT
    CAST("exposures"."arm" AS VARCHAR(MAX)) AS "variant_id",
    "exposures"."account_id" AS "unit_id",
    "exposures"."assigned_at" AS "exposure_timestamp"
  FROM "analytics-prod"."experiments"."assignments" AS "exposures"
  WHERE
    "exposures"."experiment" = 'checkout-2024'
    AND NOT "exposures"."account_id" IS NULL
    AND NOT "exposures"."arm" IS NULL
    AND NOT "exposures"."assigned_at" IS NULL
), "exposed_units" AS (
  SELECT
    "unit_id",
    "variant_id" AS "unit_variant",
    "exposure_timestamp" AS "first_exposure"
  FROM (
    SELECT
      "unit_id",
      "variant_id",
      "exposure_timestamp",
      ROW_NUMBER() OVER (PARTITION BY "unit_id" ORDER BY "exposure_timestamp", "variant_id") AS "exposure_rank"
    FROM "experiment_exposures"
  ) AS "ranked_exposures"
  WHERE
    "exposure_rank" = 1
), "attributed_events" AS (
  SELECT
    "exposed_units"."unit_variant" AS "variant_id",
    "experiment_exposures"."unit_id" AS "unit_id",
    'exposure' AS "goal",
    1 AS "cnt",
    CAST(NULL AS DOUBLE PRECISION) AS "value",
    CAST(NULL AS VARCHAR(MAX)) AS "country"
  FROM "experiment_exposures"
  JOIN "exposed_units"
    ON "experiment_exposures"."unit_id" = "exposed_units"."unit_id"
  UNION ALL
  SELECT
    "exposed_units"."unit_variant" AS "variant_id",
    "exposed_units"."unit_id" AS "unit_id",
    "events"."event_name" AS "goal",
    "events"."quantity" AS "cnt",
    CAST(NULL AS DOUBLE PRECISION) AS "value",
    "events"."country" AS "country"
  FROM "analytics-prod"."tracking"."events" AS "events"
  JOIN "exposed_units"
    ON "events"."account_id" = "exposed_units"."unit_id"
  WHERE
    "events"."event_name" IN ('page_view', 'checkout')
    AND "events"."occurred_at" >= "exposed_units"."first_exposure"
), "experiment_events" AS (
  SELECT
    "events"."variant_id" AS "variant_id",
    "events"."unit_id" AS "unit_id",
    "events"."cnt" AS "event_cnt",
    "events"."value" AS "event_value",
    CASE
      WHEN "events"."goal" = 'exposure'
      THEN 0
      WHEN "events"."goal" = 'page_view'
      THEN 1
      WHEN "events"."goal" = 'checkout'
      THEN CASE WHEN "events"."country" = 'CZ' THEN 2 END
    END AS "term_index",
    CASE WHEN "events"."goal" = 'page_view' THEN 1 ELSE 0 END AS "unit_filter_0"
  FROM "attributed_events" AS "events"
  WHERE
    (
      (
        "events"."goal" IN ('exposure', 'page_view')
        OR (
          "events"."goal" = 'checkout' AND "events"."country" = 'CZ'
        )
      )
      OR (
        "events"."goal" = 'page_view'
      )
    )
), "unit_terms" AS (
  SELECT
    "variant_id",
    "term_index",
    "unit_id",
    COALESCE(SUM("event_cnt"), 0) AS "unit_count",
    COALESCE(SUM("event_value"), 0) AS "unit_value",
    MAX("unit_filter_0") AS "unit_filter_0"
  FROM "experiment_events"
  GROUP BY
    "variant_id",
    "term_index",
    "unit_id"
), "passing_units" AS (
  SELECT
    "variant_id",
    "unit_id"
  FROM "unit_terms"
  GROUP BY
    "variant_id",
    "unit_id"
  HAVING
    MAX("unit_filter_0") = 1
), "filtered_unit_terms" AS (
  SELECT
    "unit_terms"."variant_id" AS "variant_id",
    "term_index",
    "unit_terms"."unit_id" AS "unit_id",
    "unit_count",
    "unit_value"
  FROM "unit_terms"
  JOIN "passing_units"
    ON "unit_terms"."variant_id" = "passing_units"."variant_id"
    AND "unit_terms"."unit_id" = "passing_units"."unit_id"
)
SELECT
  'checkout-2024' AS "exp_id",
  "variant_id" AS "exp_variant_id",
  'account' AS "unit_type",
  CASE "term_index" WHEN 0 THEN 'global' WHEN 1 THEN 'unit' WHEN 2 THEN 'unit' END AS "agg_type",
  CASE "term_index"
    WHEN 0
    THEN 'exposure'
    WHEN 1
    THEN 'page_view'
    WHEN 2
    THEN 'checkout'
  END AS "goal",
  "unit_id" AS "unit_id",
  CASE "term_index" WHEN 0 THEN '' WHEN 1 THEN '' WHEN 2 THEN 'CZ' END AS "country",
  "unit_count" AS "count",
  "unit_value" AS "sum_value"
FROM "filtered_unit_terms"
WHERE
  NOT "term_index" IS NULL
