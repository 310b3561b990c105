WITH `experiment_events` AS (
  SELECT
    `events`.`exp_variant_id` AS `variant_id`,
    `events`.`unit_id` AS `unit_id`,
    `events`.`cnt` AS `event_cnt`,
    `events`.`value` AS `event_value`,
    CASE
      WHEN `events`.`unit_type` = 'user'
      AND `events`.`agg_type` = 'global'
      AND `events`.`goal` = 'exposure'
      THEN 0
      WHEN `events`.`unit_type` = 'user'
      AND `events`.`agg_type` = 'unit'
      AND `events`.`goal` = 'conversion'
      THEN 1
      WHEN `events`.`unit_type` = 'user'
      AND `events`.`agg_type` = 'unit'
      AND `events`.`goal` = 'view'
      THEN 2
      WHEN `events`.`unit_type` = 'user'
      AND `events`.`agg_type` = 'unit'
      AND `events`.`goal` = 'click'
      THEN 3
      WHEN `events`.`unit_type` = 'user'
      AND `events`.`agg_type` = 'unit'
      AND `events`.`goal` = 'refund'
      THEN 4
    END AS `term_index`
  FROM `events` AS `events`
  WHERE
    `events`.`exp_id` = 'exp-1'
    AND `events`.`unit_type` = 'user'
    AND `events`.`agg_type` IN ('global', 'unit')
    AND `events`.`goal` IN ('exposure', 'conversion', 'view', 'click', 'refund')
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
    WHEN 4
    THEN 'unit'
  END AS `agg_type`,
  CASE `term_index`
    WHEN 0
    THEN 'exposure'
    WHEN 1
    THEN 'conversion'
    WHEN 2
    THEN 'view'
    WHEN 3
    THEN 'click'
    WHEN 4
    THEN 'refund'
  END AS `goal`,
  `unit_id` AS `unit_id`,
  `unit_count` AS `count`,
  `unit_value` AS `sum_value`
FROM `unit_terms`
