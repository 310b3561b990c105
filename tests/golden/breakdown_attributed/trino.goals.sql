WITH "experiment_events" AS (
  SELECT
    "events"."exp_variant_id" AS "variant_id",
    "events"."unit_id" AS "unit_id",
    "events"."cnt" AS "event_cnt",
    "events"."value" AS "event_value",
    CASE "term_layers"."layer_index"
      WHEN 0
      THEN CASE
        WHEN "events"."unit_type" = 'user'
        AND "events"."agg_type" = 'global'
        AND "events"."goal" = 'exposure'
        THEN 0
        WHEN "events"."unit_type" = 'user'
        AND "events"."agg_type" = 'unit'
        AND "events"."goal" = 'click'
        THEN 1
        WHEN "events"."unit_type" = 'user'
        AND "events"."agg_type" = 'unit'
        AND "events"."goal" = 'conversion'
        THEN CASE WHEN "events"."product" = 'p_1' THEN 2 END
      END
      WHEN 1
      THEN CASE
        WHEN "events"."unit_type" = 'user'
        AND "events"."agg_type" = 'unit'
        AND "events"."goal" = 'conversion'
        THEN CASE WHEN STARTS_WITH("events"."product", 'p_') THEN 3 END
      END
    END AS "term_index",
    CASE
      WHEN "events"."unit_type" = 'user'
      AND "events"."goal" = 'exposure'
      AND "events"."platform" IN ('web', 'ios', 'android')
      THEN 1
      ELSE 0
    END AS "unit_filter_0",
    "events"."platform" AS "segment_0",
    "events"."date" AS "segment_date",
    CASE
      WHEN "events"."unit_type" = 'user'
      AND "events"."agg_type" = 'global'
      AND "events"."goal" = 'exposure'
      THEN 1
      ELSE 0
    END AS "segment_exposure"
  FROM "events" AS "events"
  CROSS JOIN (VALUES
    (0),
    (1)) AS "term_layers"("layer_index")
  WHERE
    "events"."exp_id" = 'exp-1'
    AND "events"."date" >= CAST('2024-03-02' AS DATE)
    AND "events"."date" < CAST('2024-03-11' AS DATE)
    AND "events"."unit_type" = 'user'
    AND (
      (
        "events"."agg_type" IN ('global', 'unit')
        AND (
          "events"."goal" IN ('exposure', 'click')
          OR (
            "events"."unit_type" = 'user'
            AND "events"."agg_type" = 'unit'
            AND "events"."goal" = 'conversion'
            AND (
              "events"."product" = 'p_1' OR STARTS_WITH("events"."product", 'p_')
            )
          )
        )
      )
      OR (
        "events"."unit_type" = 'user'
        AND "events"."goal" = 'exposure'
        AND "events"."platform" IN ('web', 'ios', 'android')
      )
    )
), "unit_segments" AS (
  SELECT
    "variant_id",
    "unit_id",
    "segment_0"
  FROM (
    SELECT
      "variant_id",
      "unit_id",
      "segment_0",
      ROW_NUMBER() OVER (PARTITION BY "variant_id", "unit_id" ORDER BY "segment_date", "segment_0") AS "segment_rank"
    FROM "experiment_events"
    WHERE
      "segment_exposure" = 1
  ) AS "ranked_segments"
  WHERE
    "segment_rank" = 1
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
), "segmented_unit_terms" AS (
  SELECT
    "filtered_unit_terms".*,
    "unit_segments"."segment_0"
  FROM "filtered_unit_terms"
  LEFT JOIN "unit_segments"
    ON "filtered_unit_terms"."variant_id" = "unit_segments"."variant_id"
    AND "filtered_unit_terms"."unit_id" = "unit_segments"."unit_id"
)
SELECT
  'exp-1' AS "exp_id",
  "variant_id" AS "exp_variant_id",
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
    THEN 'conversion'
    WHEN 3
    THEN 'conversion'
  END AS "goal",
  CASE "term_index" WHEN 0 THEN '' WHEN 1 THEN '' WHEN 2 THEN 'p_1' WHEN 3 THEN '^p_' END AS "product",
  "segment_0" AS "platform",
  SUM("unit_count") AS "count",
  SUM(CAST("unit_count" AS DOUBLE) * CAST("unit_count" AS DOUBLE)) AS "sum_sqr_count",
  SUM("unit_value") AS "sum_value",
  SUM(CAST("unit_value" AS DOUBLE) * CAST("unit_value" AS DOUBLE)) AS "sum_sqr_value",
  SUM(CASE WHEN "unit_count" > 0 THEN 1 ELSE 0 END) AS "count_unique"
FROM "segmented_unit_terms"
WHERE
  NOT "term_index" IS NULL
GROUP BY
  "variant_id",
  "term_index",
  "segment_0"
