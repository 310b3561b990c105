WITH `experiment_events` AS (
  SELECT
    `events`.`exp_variant_id` AS `variant_id`,
    `events`.`unit_id` AS `unit_id`,
    `events`.`cnt` AS `event_cnt`,
    `events`.`value` AS `event_value`,
    CASE `term_layers`.`layer_index`
      WHEN 0
      THEN CASE
        WHEN `events`.`unit_type` = 'user'
        AND `events`.`agg_type` = 'global'
        AND `events`.`goal` = 'exposure'
        THEN 0
        WHEN `events`.`unit_type` = 'user'
        AND `events`.`agg_type` = 'unit'
        AND `events`.`goal` = 'click'
        THEN CASE WHEN `events`.`product` = 'p_1' THEN 1 END
      END
      WHEN 1
      THEN CASE
        WHEN `events`.`unit_type` = 'user'
        AND `events`.`agg_type` = 'unit'
        AND `events`.`goal` = 'click'
        THEN 2
      END
      WHEN 2
      THEN CASE
        WHEN `events`.`unit_type` = 'user'
        AND `events`.`agg_type` = 'unit'
        AND `events`.`goal` = 'click'
        THEN CASE WHEN STARTS_WITH(`events`.`product`, 'p_') THEN 3 END
      END
    END AS `term_index`
  FROM `events` AS `events`
  CROSS JOIN UNNEST([
    STRUCT(0 AS `layer_index`),
    STRUCT(1 AS `layer_index`),
    STRUCT(2 AS `layer_index`)
  ]) AS `term_layers`
  WHERE
    `events`.`exp_id` = 'exp-1'
    AND `events`.`unit_type` = 'user'
    AND `events`.`agg_type` IN ('global', 'unit')
    AND `events`.`goal` IN ('exposure', 'click')
), `unit_terms` AS (
  SELECT
    `variant_id`,
    `term_index`,
    `unit_id`,
    COALESCE(SUM(`event_cnt`), 0) AS `unit_count`,
    COALESCE(SUM(`event_value`), 0) AS `unit_value`
  FROM `experiment_events`
  WHERE
    NOT `term_index` IS NULL
  GROUP BY
    `variant_id`,
    `term_index`,
    `unit_id`
)
SELECT
  'exp-1' AS `exp_id`,
  `variant_id` AS `exp_variant_id`,
  'user' AS `unit_type`,
  CASE `term_index`
    WHEN 0
    THEN 'global'
    WHEN 1
    THEN 'unit'
    WHEN 2
    THEN 'unit'
    WHEN 3
    THEN 'unit'
  END AS `agg_type`,
  CASE `term_index`
    WHEN 0
    THEN 'exposure'
    WHEN 1
    THEN 'click'
    WHEN 2
    THEN 'click'
    WHEN 3
    THEN 'click'
  END AS `goal`,
  `unit_id` AS `unit_id`,
  CASE `term_index` WHEN 0 THEN '' WHEN 1 THEN 'p_1' WHEN 2 THEN '' WHEN 3 THEN '^p_' END AS `product`,
  `unit_count` AS `count`,
  `unit_value` AS `sum_value`
FROM `unit_terms`
