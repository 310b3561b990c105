WITH `experiment_exposures` AS (
  SELECT
    CAST(`exposures`.`variant_id` AS STRING) AS `variant_id`,
    `exposures`.`unit_id` AS `unit_id`,
    `exposures`.`platform` AS `platform`,
    `exposures`.`timestamp` AS `exposure_timestamp`
  FROM `exposures` AS `exposures`
  WHERE
    `exposures`.`exp_id` = 'exp-1'
    AND NOT `exposures`.`unit_id` IS NULL
    AND NOT `exposures`.`variant_id` IS NULL
    AND NOT `exposures`.`timestamp` IS NULL
    AND `exposures`.`timestamp` >= CAST('2024-03-01 00:00:00' AS TIMESTAMP)
    AND `exposures`.`timestamp` < CAST('2024-03-08 00:00:00' AS TIMESTAMP)
), `exposed_units` AS (
  SELECT
    `unit_id`,
    CASE WHEN MIN(`variant_id`) = MAX(`variant_id`) THEN MIN(`variant_id`) END AS `unit_variant`,
    MIN(`exposure_timestamp`) AS `first_exposure`
  FROM `experiment_exposures`
  GROUP BY
    `unit_id`
), `attributed_events` AS (
  SELECT
    `experiment_exposures`.`variant_id` AS `variant_id`,
    `experiment_exposures`.`unit_id` AS `unit_id`,
    'exposure' AS `goal`,
    1 AS `cnt`,
    CAST(NULL AS DOUBLE) AS `value`,
    CASE WHEN `exposed_units`.`unit_variant` IS NULL THEN 1 ELSE 0 END AS `excluded`,
    `experiment_exposures`.`platform` AS `platform`,
    CAST(NULL AS STRING) AS `product`
  FROM `experiment_exposures`
  JOIN `exposed_units`
    ON `experiment_exposures`.`unit_id` = `exposed_units`.`unit_id`
  UNION ALL
  SELECT
    `exposed_units`.`unit_variant` AS `variant_id`,
    `exposed_units`.`unit_id` AS `unit_id`,
    `events`.`event` AS `goal`,
    1 AS `cnt`,
    `events`.`value` AS `value`,
    0 AS `excluded`,
    CAST(NULL AS STRING) AS `platform`,
    `events`.`product` AS `product`
  FROM `events` AS `events`
  JOIN `exposed_units`
    ON `events`.`unit_id` = `exposed_units`.`unit_id`
    AND NOT `exposed_units`.`unit_variant` IS NULL
  WHERE
    `events`.`event` = 'conversion'
    AND `events`.`timestamp` >= `exposed_units`.`first_exposure` + INTERVAL 3600 SECOND
    AND `events`.`timestamp` < `exposed_units`.`first_exposure` + INTERVAL 262800 SECOND
    AND `events`.`timestamp` >= CAST('2024-03-01 01:00:00' AS TIMESTAMP)
    AND `events`.`timestamp` < CAST('2024-03-08 00:00:00' AS TIMESTAMP)
    AND `events`.`event_date` >= CAST('2024-03-01' AS DATE)
    AND `events`.`event_date` < CAST('2024-03-08' AS DATE)
), `experiment_events` AS (
  SELECT
    `events`.`variant_id` AS `variant_id`,
    `events`.`excluded` AS `excluded`,
    `events`.`unit_id` AS `unit_id`,
    CAST(COALESCE(`events`.`cnt`, 0) AS DOUBLE) AS `event_cnt`,
    CAST(COALESCE(`events`.`value`, 0) AS DOUBLE) AS `event_value`,
    `events`.`goal` = 'exposure' AS `term_goal_0`,
    `events`.`goal` = 'conversion' AS `term_goal_1`,
    `events`.`product` = 'p_1' AS `term_filter_0`,
    STARTSWITH(`events`.`product`, 'p_') AS `term_filter_1`,
    CASE
      WHEN `events`.`goal` = 'exposure' AND `events`.`platform` IN ('web', 'ios')
      THEN 1
      ELSE 0
    END AS `unit_filter_0`
  FROM `attributed_events` AS `events`
  WHERE
    (
      (
        `events`.`goal` IN ('exposure', 'conversion')
      )
      OR (
        `events`.`goal` = 'exposure' AND `events`.`platform` IN ('web', 'ios')
      )
    )
), `unit_goals` AS (
  SELECT
    `variant_id`,
    `excluded`,
    `unit_id`,
    COALESCE(SUM(CASE WHEN `term_goal_0` THEN `event_cnt` END), 0) AS `count_0`,
    COALESCE(SUM(CASE WHEN `term_goal_1` THEN `event_cnt` END), 0) AS `count_1`,
    COALESCE(SUM(CASE WHEN `term_goal_1` AND `term_filter_0` THEN `event_value` END), 0) AS `value_2`,
    COALESCE(SUM(CASE WHEN `term_goal_1` AND `term_filter_1` THEN `event_value` END), 0) AS `value_3`
  FROM `experiment_events`
  GROUP BY
    `variant_id`,
    `excluded`,
    `unit_id`
  HAVING
    COUNT(CASE WHEN `term_goal_0` THEN 1 END) > 0 AND MAX(`unit_filter_0`) = 1
), `unit_metrics` AS (
  SELECT
    *,
    CAST(CASE WHEN `count_1` > 0 THEN 1 ELSE 0 END AS DOUBLE) AS `expression_0`,
    CAST(0 AS DOUBLE) AS `expression_4`
  FROM `unit_goals`
), `variant_sums` AS (
  SELECT
    `variant_id`,
    `excluded`,
    COUNT(*) AS `n`,
    SUM(`expression_0`) AS `sum_0`,
    SUM(`count_0`) AS `sum_1`,
    SUM(`value_2`) AS `sum_2`,
    SUM(`value_3`) AS `sum_3`,
    SUM(`expression_4`) AS `sum_4`,
    SUM(`expression_0` * `expression_0`) AS `sum_0_0`,
    SUM(`count_0` * `count_0`) AS `sum_1_1`,
    SUM(`value_2` * `value_2`) AS `sum_2_2`,
    SUM(`value_3` * `value_3`) AS `sum_3_3`,
    SUM(`expression_4` * `expression_4`) AS `sum_4_4`,
    SUM(`expression_0` * `count_0`) AS `sum_0_1`,
    SUM(`value_2` * `count_0`) AS `sum_2_1`,
    SUM(`value_3` * `expression_0`) AS `sum_3_0`,
    SUM(`expression_4` * `count_0`) AS `sum_4_1`
  FROM `unit_metrics`
  GROUP BY
    `variant_id`,
    `excluded`
)
SELECT
  'exp-1' AS `exp_id`,
  CASE WHEN `excluded` = 1 THEN '@multiple:' || `variant_id` ELSE `variant_id` END AS `exp_variant_id`,
  `metric_id` AS `metric_id`,
  `n` AS `n`,
  CASE `row_index`
    WHEN 0
    THEN `sum_0`
    WHEN 1
    THEN `sum_2`
    WHEN 2
    THEN `sum_3`
    WHEN 3
    THEN `sum_4`
    WHEN 4
    THEN `sum_1`
  END AS `sum_x`,
  CASE `row_index`
    WHEN 0
    THEN `sum_0_0`
    WHEN 1
    THEN `sum_2_2`
    WHEN 2
    THEN `sum_3_3`
    WHEN 3
    THEN `sum_4_4`
    WHEN 4
    THEN `sum_1_1`
  END AS `sum_x2`,
  CASE `row_index`
    WHEN 0
    THEN `sum_1`
    WHEN 1
    THEN `sum_1`
    WHEN 2
    THEN `sum_0`
    WHEN 3
    THEN `sum_1`
    WHEN 4
    THEN `sum_1`
  END AS `sum_y`,
  CASE `row_index`
    WHEN 0
    THEN `sum_1_1`
    WHEN 1
    THEN `sum_1_1`
    WHEN 2
    THEN `sum_0_0`
    WHEN 3
    THEN `sum_1_1`
    WHEN 4
    THEN `sum_1_1`
  END AS `sum_y2`,
  CASE `row_index`
    WHEN 0
    THEN `sum_0_1`
    WHEN 1
    THEN `sum_2_1`
    WHEN 2
    THEN `sum_3_0`
    WHEN 3
    THEN `sum_4_1`
    WHEN 4
    THEN `sum_1_1`
  END AS `sum_xy`
FROM `variant_sums`
CROSS JOIN VALUES
  (0, '1'),
  (1, '2'),
  (2, '3'),
  (3, '@check:1'),
  (4, '@exposure') AS `metric_rows`(`row_index`, `metric_id`)
