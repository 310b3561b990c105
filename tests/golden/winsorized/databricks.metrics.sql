WITH `experiment_events` AS (
  SELECT
    `events`.`exp_variant_id` AS `variant_id`,
    `events`.`unit_id` AS `unit_id`,
    CAST(COALESCE(`events`.`cnt`, 0) AS DOUBLE) AS `event_cnt`,
    CAST(COALESCE(`events`.`value`, 0) AS DOUBLE) AS `event_value`,
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
), `unit_goals` AS (
  SELECT
    `variant_id`,
    `unit_id`,
    SUM(CASE WHEN `term_index` = 0 THEN `event_cnt` ELSE 0 END) AS `count_0`,
    SUM(CASE WHEN `term_index` = 2 THEN `event_cnt` ELSE 0 END) AS `count_2`,
    SUM(CASE WHEN `term_index` = 3 THEN `event_cnt` ELSE 0 END) AS `count_3`,
    SUM(CASE WHEN `term_index` = 1 THEN `event_value` ELSE 0 END) AS `value_1`,
    SUM(CASE WHEN `term_index` = 4 THEN `event_value` ELSE 0 END) AS `value_4`
  FROM `experiment_events`
  GROUP BY
    `variant_id`,
    `unit_id`
  HAVING
    COUNT(CASE WHEN `term_index` = 0 THEN 1 END) > 0
), `unit_metrics` AS (
  SELECT
    *,
    `count_3` - `count_2` AS `expression_3`,
    `value_1` - `value_4` AS `expression_4`,
    CAST(0 AS DOUBLE) AS `expression_6`
  FROM `unit_goals`
), `nominator_caps_0` AS (
  SELECT
    PERCENTILE(`value_1`, 0.95) AS `cap_0_0`,
    PERCENTILE(`value_1`, 0.8) AS `cap_0_1`
  FROM `unit_metrics`
), `nominator_caps_1` AS (
  SELECT
    PERCENTILE(`expression_3`, 0.1) AS `cap_1_0`
  FROM `unit_metrics`
), `nominator_caps_2` AS (
  SELECT
    PERCENTILE(`expression_4`, 0.07) AS `cap_2_0`,
    PERCENTILE(`expression_4`, 0.975) AS `cap_2_1`
  FROM `unit_metrics`
), `capped_metrics` AS (
  SELECT
    `unit_metrics`.*,
    CASE WHEN `value_1` > `cap_0_0` THEN `cap_0_0` ELSE `value_1` END AS `capped_7`,
    CASE WHEN `value_1` > `cap_0_1` THEN `cap_0_1` ELSE `value_1` END AS `capped_8`,
    CASE WHEN `expression_3` < `cap_1_0` THEN `cap_1_0` ELSE `expression_3` END AS `capped_9`,
    CASE
      WHEN `expression_4` < `cap_2_0`
      THEN `cap_2_0`
      WHEN `expression_4` > `cap_2_1`
      THEN `cap_2_1`
      ELSE `expression_4`
    END AS `capped_10`
  FROM `unit_metrics`
  CROSS JOIN `nominator_caps_0`
  CROSS JOIN `nominator_caps_1`
  CROSS JOIN `nominator_caps_2`
), `variant_sums` AS (
  SELECT
    `variant_id`,
    COUNT(*) AS `n`,
    SUM(`value_1`) AS `sum_0`,
    SUM(`count_0`) AS `sum_1`,
    SUM(`count_2`) AS `sum_2`,
    SUM(`count_3`) AS `sum_5`,
    SUM(`expression_6`) AS `sum_6`,
    SUM(`capped_7`) AS `sum_7`,
    SUM(`capped_8`) AS `sum_8`,
    SUM(`capped_9`) AS `sum_9`,
    SUM(`capped_10`) AS `sum_10`,
    SUM(`value_1` * `value_1`) AS `sum_0_0`,
    SUM(`count_0` * `count_0`) AS `sum_1_1`,
    SUM(`count_2` * `count_2`) AS `sum_2_2`,
    SUM(`count_3` * `count_3`) AS `sum_5_5`,
    SUM(`expression_6` * `expression_6`) AS `sum_6_6`,
    SUM(`capped_7` * `capped_7`) AS `sum_7_7`,
    SUM(`capped_8` * `capped_8`) AS `sum_8_8`,
    SUM(`capped_9` * `capped_9`) AS `sum_9_9`,
    SUM(`capped_10` * `capped_10`) AS `sum_10_10`,
    SUM(`value_1` * `count_0`) AS `sum_0_1`,
    SUM(`capped_7` * `count_0`) AS `sum_7_1`,
    SUM(`capped_8` * `count_0`) AS `sum_8_1`,
    SUM(`capped_8` * `count_2`) AS `sum_8_2`,
    SUM(`capped_9` * `count_0`) AS `sum_9_1`,
    SUM(`capped_10` * `count_0`) AS `sum_10_1`,
    SUM(`count_3` * `count_2`) AS `sum_5_2`,
    SUM(`expression_6` * `count_0`) AS `sum_6_1`
  FROM `capped_metrics`
  GROUP BY
    `variant_id`
)
SELECT
  'exp-1' AS `exp_id`,
  `variant_id` AS `exp_variant_id`,
  `metric_id` AS `metric_id`,
  `n` AS `n`,
  CASE `row_index`
    WHEN 0
    THEN `sum_0`
    WHEN 1
    THEN `sum_7`
    WHEN 2
    THEN `sum_8`
    WHEN 3
    THEN `sum_8`
    WHEN 4
    THEN `sum_9`
    WHEN 5
    THEN `sum_10`
    WHEN 6
    THEN `sum_5`
    WHEN 7
    THEN `sum_6`
    WHEN 8
    THEN `sum_1`
  END AS `sum_x`,
  CASE `row_index`
    WHEN 0
    THEN `sum_0_0`
    WHEN 1
    THEN `sum_7_7`
    WHEN 2
    THEN `sum_8_8`
    WHEN 3
    THEN `sum_8_8`
    WHEN 4
    THEN `sum_9_9`
    WHEN 5
    THEN `sum_10_10`
    WHEN 6
    THEN `sum_5_5`
    WHEN 7
    THEN `sum_6_6`
    WHEN 8
    THEN `sum_1_1`
  END AS `sum_x2`,
  CASE `row_index`
    WHEN 0
    THEN `sum_1`
    WHEN 1
    THEN `sum_1`
    WHEN 2
    THEN `sum_1`
    WHEN 3
    THEN `sum_2`
    WHEN 4
    THEN `sum_1`
    WHEN 5
    THEN `sum_1`
    WHEN 6
    THEN `sum_2`
    WHEN 7
    THEN `sum_1`
    WHEN 8
    THEN `sum_1`
  END AS `sum_y`,
  CASE `row_index`
    WHEN 0
    THEN `sum_1_1`
    WHEN 1
    THEN `sum_1_1`
    WHEN 2
    THEN `sum_1_1`
    WHEN 3
    THEN `sum_2_2`
    WHEN 4
    THEN `sum_1_1`
    WHEN 5
    THEN `sum_1_1`
    WHEN 6
    THEN `sum_2_2`
    WHEN 7
    THEN `sum_1_1`
    WHEN 8
    THEN `sum_1_1`
  END AS `sum_y2`,
  CASE `row_index`
    WHEN 0
    THEN `sum_0_1`
    WHEN 1
    THEN `sum_7_1`
    WHEN 2
    THEN `sum_8_1`
    WHEN 3
    THEN `sum_8_2`
    WHEN 4
    THEN `sum_9_1`
    WHEN 5
    THEN `sum_10_1`
    WHEN 6
    THEN `sum_5_2`
    WHEN 7
    THEN `sum_6_1`
    WHEN 8
    THEN `sum_1_1`
  END AS `sum_xy`
FROM `variant_sums`
CROSS JOIN VALUES
  (0, 'revenue'),
  (1, 'revenue-p95'),
  (2, 'revenue-p80'),
  (3, 'revenue-p80-views'),
  (4, 'clicks-views-p10'),
  (5, 'net-both'),
  (6, 'ctr-zero'),
  (7, '@check:1'),
  (8, '@exposure') AS `metric_rows`(`row_index`, `metric_id`)
