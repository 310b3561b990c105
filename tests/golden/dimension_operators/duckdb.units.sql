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
        AND "events"."goal" = 'conversion'
        THEN CASE WHEN "events"."product" = 'p_1' THEN 1 END
        WHEN "events"."unit_type" = 'user'
        AND "events"."agg_type" = 'unit'
        AND "events"."goal" = 'click'
        THEN CASE
          WHEN "events"."product" IN ('p_1', 'p_10')
          THEN 2
          WHEN "events"."product" = 'p%1'
          THEN 7
        END
        WHEN "events"."unit_type" = 'user'
        AND "events"."agg_type" = 'unit'
        AND "events"."goal" = 'view'
        THEN CASE WHEN NOT "events"."product" IN ('p_1', 'p_2') THEN 3 END
        WHEN "events"."unit_type" = 'user'
        AND "events"."agg_type" = 'unit'
        AND "events"."goal" = 'refund'
        THEN CASE
          WHEN STARTS_WITH("events"."product", 'p_')
          THEN 5
          WHEN STARTS_WITH("events"."product", 'p%') OR STARTS_WITH("events"."product", 'q')
          THEN 6
        END
      END
      WHEN 1
      THEN CASE
        WHEN "events"."unit_type" = 'user'
        AND "events"."agg_type" = 'unit'
        AND "events"."goal" = 'view'
        THEN CASE WHEN "events"."price" <> 7 THEN 4 END
        WHEN "events"."unit_type" = 'user'
        AND "events"."agg_type" = 'unit'
        AND "events"."goal" = 'conversion'
        THEN CASE
          WHEN "events"."price" > 10
          THEN 8
          WHEN "events"."price" <= 3 AND "events"."product" < 'p_2'
          THEN 9
        END
      END
      WHEN 2
      THEN CASE
        WHEN "events"."unit_type" = 'user'
        AND "events"."agg_type" = 'unit'
        AND "events"."goal" = 'view'
        THEN CASE
          WHEN "events"."price" >= 5 AND "events"."product" < 'p_9'
          THEN 10
          WHEN "events"."price" IN (1, 2, 3)
          THEN 11
        END
      END
    END AS "term_index"
  FROM "events" AS "events"
  CROSS JOIN (VALUES
    (0),
    (1),
    (2)) AS "term_layers"("layer_index")
  WHERE
    "events"."exp_id" = 'exp-1'
    AND "events"."unit_type" = 'user'
    AND "events"."agg_type" IN ('global', 'unit')
    AND (
      "events"."goal" = 'exposure'
      OR (
        "events"."unit_type" = 'user'
        AND "events"."agg_type" = 'unit'
        AND "events"."goal" = 'conversion'
        AND (
          "events"."product" = 'p_1'
          OR "events"."price" > 10
          OR (
            "events"."price" <= 3 AND "events"."product" < 'p_2'
          )
        )
      )
      OR (
        "events"."unit_type" = 'user'
        AND "events"."agg_type" = 'unit'
        AND "events"."goal" = 'click'
        AND "events"."product" IN ('p_1', 'p_10', 'p%1')
      )
      OR (
        "events"."unit_type" = 'user'
        AND "events"."agg_type" = 'unit'
        AND "events"."goal" = 'view'
        AND (
          NOT "events"."product" IN ('p_1', 'p_2')
          OR "events"."price" <> 7
          OR (
            "events"."price" >= 5 AND "events"."product" < 'p_9'
          )
          OR "events"."price" IN (1, 2, 3)
        )
      )
      OR (
        "events"."unit_type" = 'user'
        AND "events"."agg_type" = 'unit'
        AND "events"."goal" = 'refund'
        AND (
          STARTS_WITH("events"."product", 'p_')
          OR (
            STARTS_WITH("events"."product", 'p%') OR STARTS_WITH("events"."product", 'q')
          )
        )
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
    WHEN 4
    THEN 'unit'
    WHEN 5
    THEN 'unit'
    WHEN 6
    THEN 'unit'
    WHEN 7
    THEN 'unit'
    WHEN 8
    THEN 'unit'
    WHEN 9
    THEN 'unit'
    WHEN 10
    THEN 'unit'
    WHEN 11
    THEN 'unit'
  END AS "agg_type",
  CASE "term_index"
    WHEN 0
    THEN 'exposure'
    WHEN 1
    THEN 'conversion'
    WHEN 2
    THEN 'click'
    WHEN 3
    THEN 'view'
    WHEN 4
    THEN 'view'
    WHEN 5
    THEN 'refund'
    WHEN 6
    THEN 'refund'
    WHEN 7
    THEN 'click'
    WHEN 8
    THEN 'conversion'
    WHEN 9
    THEN 'conversion'
    WHEN 10
    THEN 'view'
    WHEN 11
    THEN 'view'
  END AS "goal",
  "unit_id" AS "unit_id",
  CASE "term_index"
    WHEN 0
    THEN ''
    WHEN 1
    THEN 'p_1'
    WHEN 2
    THEN 'p_1|p_10'
    WHEN 3
    THEN '!=p_1|p_2'
    WHEN 4
    THEN ''
    WHEN 5
    THEN '^p_'
    WHEN 6
    THEN '^p%|q'
    WHEN 7
    THEN 'p%1'
    WHEN 8
    THEN ''
    WHEN 9
    THEN '<p_2'
    WHEN 10
    THEN '<p_9'
    WHEN 11
    THEN ''
  END AS "product",
  CASE "term_index"
    WHEN 0
    THEN ''
    WHEN 1
    THEN ''
    WHEN 2
    THEN ''
    WHEN 3
    THEN ''
    WHEN 4
    THEN '!=7'
    WHEN 5
    THEN ''
    WHEN 6
    THEN ''
    WHEN 7
    THEN ''
    WHEN 8
    THEN '>10'
    WHEN 9
    THEN '<=3'
    WHEN 10
    THEN '>=5'
    WHEN 11
    THEN '1|2|3'
  END AS "price",
  "unit_count" AS "count",
  "unit_value" AS "sum_value"
FROM "unit_terms"
