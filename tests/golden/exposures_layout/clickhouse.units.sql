WITH "experiment_exposures" AS (
  SELECT
    CAST("exposures"."variant_id" AS Nullable(String)) AS "variant_id",
    "exposures"."unit_id" AS "unit_id",
    "exposures"."platform" AS "platform",
    "exposures"."timestamp" AS "exposure_timestamp"
  FROM "exposures" AS "exposures"
  WHERE
    "exposures"."exp_id" = 'exp-1'
    AND NOT (
      "exposures"."unit_id" IS NULL
    )
    AND NOT (
      "exposures"."variant_id" IS NULL
    )
    AND NOT (
      "exposures"."timestamp" IS NULL
    )
    AND "exposures"."timestamp" >= CAST('2024-03-01 00:00:00' AS Nullable(DateTime))
    AND "exposures"."timestamp" < CAST('2024-03-08 00:00:00' AS Nullable(DateTime))
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
    CAST(NULL AS Nullable(Float64)) AS "value",
    CASE WHEN "exposed_units"."unit_variant" IS NULL THEN 1 ELSE 0 END AS "excluded",
    "experiment_exposures"."platform" AS "platform",
    CAST(NULL AS Nullable(String)) AS "product"
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
    CAST(NULL AS Nullable(String)) AS "platform",
    "events"."product" AS "product"
  FROM "events" AS "events"
  JOIN "exposed_units"
    ON "events"."unit_id" = "exposed_units"."unit_id"
    AND NOT (
      "exposed_units"."unit_variant" IS NULL
    )
  WHERE
    "events"."event" = 'conversion'
    AND "events"."timestamp" >= "exposed_units"."first_exposure" + INTERVAL 3600 SECOND
    AND "events"."timestamp" < "exposed_units"."first_exposure" + INTERVAL 262800 SECOND
    AND "events"."timestamp" >= CAST('2024-03-01 01:00:00' AS Nullable(DateTime))
    AND "events"."timestamp" < CAST('2024-03-08 00:00:00' AS Nullable(DateTime))
    AND "events"."event_date" >= CAST('2024-03-01' AS Nullable(DATE))
    AND "events"."event_date" < CAST('2024-03-08' AS Nullable(DATE))
), "experiment_events" AS (
  SELECT
    "events"."variant_id" AS "variant_id",
    "events"."excluded" AS "excluded",
    "events"."unit_id" AS "unit_id",
    "events"."cnt" AS "event_cnt",
    "events"."value" AS "event_value",
    CASE "term_layers"."layer_index"
      WHEN 0
      THEN CASE
        WHEN "events"."goal" = 'exposure'
        THEN 0
        WHEN "events"."goal" = 'conversion'
        THEN 1
      END
      WHEN 1
      THEN CASE
        WHEN "events"."goal" = 'conversion'
        THEN CASE WHEN "events"."product" = 'p_1' THEN 2 END
      END
      WHEN 2
      THEN CASE
        WHEN "events"."goal" = 'conversion'
        THEN CASE WHEN startsWith("events"."product", 'p_') THEN 3 END
      END
    END AS "term_index",
    CASE
      WHEN "events"."goal" = 'exposure' AND "events"."platform" IN ('web', 'ios')
      THEN 1
      ELSE 0
    END AS "unit_filter_0"
  FROM "attributed_events" AS "events"
  CROSS JOIN (
    SELECT
      0 AS "layer_index"
    UNION ALL
    SELECT
      1
    UNION ALL
    SELECT
      2
  ) AS "term_layers"
  WHERE
    (
      (
        "events"."goal" IN ('exposure', 'conversion')
      )
      OR (
        "events"."goal" = 'exposure' AND "events"."platform" IN ('web', 'ios')
      )
    )
), "unit_terms" AS (
  SELECT
    "variant_id",
    "excluded",
    "term_index",
    "unit_id",
    COALESCE(SUM("event_cnt"), 0) AS "unit_count",
    COALESCE(SUM("event_value"), 0) AS "unit_value",
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
    "unit_value"
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
    THEN 'conversion'
    WHEN 2
    THEN 'conversion'
    WHEN 3
    THEN 'conversion'
  END AS "goal",
  "unit_id" AS "unit_id",
  CASE "term_index" WHEN 0 THEN '' WHEN 1 THEN '' WHEN 2 THEN 'p_1' WHEN 3 THEN '^p_' END AS "product",
  "unit_count" AS "count",
  "unit_value" AS "sum_value"
FROM "filtered_unit_terms"
WHERE
  NOT (
    "term_index" IS NULL
  )
