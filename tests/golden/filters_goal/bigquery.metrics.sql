WITH `experiment_events` AS (
  SELECT
    `events`.`exp_variant_id` AS `variant_id`,
    `events`.`unit_id` AS `unit_id`,
    CAST(COALESCE(`events`.`cnt`, 0) AS FLOAT64) AS `event_cnt`,
    CAST(COALESCE(`events`.`value`, 0) AS FLOAT64) AS `event_value`,
    CASE
      WHEN `events`.`unit_type` = 'user'
      AND `events`.`agg_type` = 'global'
      AND `events`.`goal` = 'exposure'
      THEN 0
      WHEN `events`.`unit_type` = 'user'
      AND `events`.`agg_type` = 'unit'
      AND `events`.`goal` = 'click'
      THEN 1
      WHEN `events`.`unit_type` = 'user'
      AND `events`.`agg_type` = 'unit'
      AND `events`.`goal` = 'conversion'
      THEN 2
    END AS `term_index`
  FROM `events` AS `events`
  WHERE
    `events`.`exp_id` = 'exp-1'
    AND `events`.`unit_type` = 'user'
    AND `events`.`agg_type` IN ('global', 'unit')
    AND `events`.`goal` IN ('exposure', 'click', 'conversion')
    AND (
      (
        `events`.`unit_type` = 'user' AND `events`.`goal` = 'exposure'
      )
      OR `events`.`product` IN ('p_1', 'p_2')
    )
    AND (
      `events`.`goal` <> 'click' OR `events`.`price` IN (1, 2, 3)
    )
), `unit_goals` AS (
  SELECT
    `variant_id`,
    `unit_id`,
    SUM(CASE WHEN `term_index` = 0 THEN `event_cnt` ELSE 0 END) AS `count_0`,
    SUM(CASE WHEN `term_index` = 1 THEN `event_cnt` ELSE 0 END) AS `count_1`,
    SUM(CASE WHEN `term_index` = 2 THEN `event_value` ELSE 0 END) AS `value_2`
  FROM `experiment_events`
  GROUP BY
    `variant_id`,
    `unit_id`
  HAVING
    COUNT(CASE WHEN `term_index` = 0 THEN 1 END) > 0
), `unit_metrics` AS (
  SELECT
    *
  FROM `unit_goals`
), `variant_sums` AS (
  SELECT
    `variant_id`,
    COUNT(*) AS `n`,
    SUM(`count_1`) AS `sum_0`,
    SUM(`count_0`) AS `sum_1`,
    SUM(`value_2`) AS `sum_2`,
    SUM(`count_1` * `count_1`) AS `sum_0_0`,
    SUM(`count_0` * `count_0`) AS `sum_1_1`,
    SUM(`value_2` * `value_2`) AS `sum_2_2`,
    SUM(`count_1` * `count_0`) AS `sum_0_1`,
    SUM(`value_2` * `count_0`) AS `sum_2_1`
  FROM `unit_metrics`
  GROUP BY
    `variant_id`
)
SELECT
  'exp-1' AS `exp_id`,
  `variant_id` AS `exp_variant_id`,
  `metric_id` AS `metric_id`,
  `n` AS `n`,
  CASE `row_index` WHEN 0 THEN `sum_0` WHEN 1 THEN `sum_2` WHEN 2 THEN `sum_1` END AS `sum_x`,
  CASE `row_index` WHEN 0 THEN `sum_0_0` WHEN 1 THEN `sum_2_2` WHEN 2 THEN `sum_1_1` END AS `sum_x2`,
  `sum_1` AS `sum_y`,
  `sum_1_1` AS `sum_y2`,
  CASE `row_index` WHEN 0 THEN `sum_0_1` WHEN 1 THEN `sum_2_1` WHEN 2 THEN `sum_1_1` END AS `sum_xy`
FROM `variant_sums`
CROSS JOIN UNNEST([
  STRUCT(0 AS `row_index`, '1' AS `metric_id`),
  STRUCT(1 AS `row_index`, '2' AS `metric_id`),
  STRUCT(2 AS `row_index`, '@exposure' AS `metric_id`)
]) AS `metric_rows`
