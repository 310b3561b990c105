WITH "experiment_events" AS (
  SELECT
    "events"."variant" AS "variant_id",
    "events"."entity_id" AS "unit_id",
    "events"."event_count" AS "event_cnt",
    "events"."revenue" AS "event_value",
    CASE
      WHEN "events"."entity_type" = 'user' AND "events"."event_name" = 'exposure'
      THEN 0
      WHEN "events"."entity_type" = 'user' AND "events"."event_name" = 'purchase'
      THEN CASE WHEN "events"."country" IN ('CZ', 'SK') THEN 1 END
    END AS "term_index"
  FROM "analytics-prod"."experiments"."attributed_events" AS "events"
  WHERE
    "events"."experiment_id" = 'checkout-2024'
    AND "events"."event_date" >= CAST('2024-01-01' AS DATE)
    AND "events"."entity_type" = 'user'
    AND (
      "events"."event_name" = 'exposure'
      OR (
        "events"."entity_type" = 'user'
        AND "events"."event_name" = 'purchase'
        AND "events"."country" IN ('CZ', 'SK')
      )
    )
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
)
SELECT
  'checkout-2024' AS "exp_id",
  "variant_id" AS "exp_variant_id",
  'user' AS "unit_type",
  CASE "term_index" WHEN 0 THEN 'global' WHEN 1 THEN 'unit' END AS "agg_type",
  CASE "term_index" WHEN 0 THEN 'exposure' WHEN 1 THEN 'purchase' END AS "goal",
  "unit_id" AS "unit_id",
  CASE "term_index" WHEN 0 THEN '' WHEN 1 THEN 'CZ|SK' END AS "country",
  "unit_count" AS "count",
  "unit_value" AS "sum_value"
FROM "unit_terms"
