WITH `experiment_exposures` AS (
  SELECT
    CAST(`exposures`.`variant_id` AS STRING) AS `variant_id`,
    `exposures`.`unit_id` AS `unit_id`,
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
    0 AS `pre_period`,
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
    CASE WHEN `events`.`timestamp` < `exposed_units`.`first_exposure` THEN 1 ELSE 0 END AS `pre_period`,
    `events`.`product` AS `product`
  FROM `events` AS `events`
  JOIN `exposed_units`
    ON `events`.`unit_id` = `exposed_units`.`unit_id`
    AND NOT `exposed_units`.`unit_variant` IS NULL
  WHERE
    `events`.`event` IN ('click', 'purchase', 'view')
    AND `events`.`timestamp` >= `exposed_units`.`first_exposure` - INTERVAL 1209600 SECOND
    AND `events`.`timestamp` >= CAST('2024-02-16 00:00:00' AS TIMESTAMP)
    AND `events`.`timestamp` < CAST('2024-03-08 00:00:00' AS TIMESTAMP)
), `experiment_events` AS (
  SELECT
    `events`.`variant_id` AS `variant_id`,
    `events`.`excluded` AS `excluded`,
    `events`.`unit_id` AS `unit_id`,
    CAST(COALESCE(`events`.`cnt`, 0) AS DOUBLE) AS `event_cnt`,
    CAST(COALESCE(`events`.`value`, 0) AS DOUBLE) AS `event_value`,
    CASE
      WHEN `events`.`goal` = 'exposure'
      THEN 0
      WHEN `events`.`goal` = 'click'
      THEN CASE WHEN `events`.`pre_period` = 0 THEN 1 WHEN `events`.`pre_period` = 1 THEN 4 END
      WHEN `events`.`goal` = 'purchase'
      THEN CASE
        WHEN `events`.`product` = 'p_1' AND `events`.`pre_period` = 0
        THEN 2
        WHEN `events`.`product` = 'p_1' AND `events`.`pre_period` = 1
        THEN 5
      END
      WHEN `events`.`goal` = 'view'
      THEN CASE WHEN `events`.`pre_period` = 0 THEN 3 WHEN `events`.`pre_period` = 1 THEN 6 END
    END AS `term_index`,
    `events`.`pre_period` AS `pre_period`,
    CASE WHEN `events`.`goal` = 'view' AND `events`.`pre_period` = 0 THEN 1 ELSE 0 END AS `unit_filter_0`
  FROM `attributed_events` AS `events`
  WHERE
    (
      (
        `events`.`goal` IN ('exposure', 'click', 'view')
        OR (
          `events`.`goal` = 'purchase' AND `events`.`product` = 'p_1'
        )
      )
      OR (
        `events`.`goal` = 'view' AND `events`.`pre_period` = 0
      )
    )
), `unit_goals` AS (
  SELECT
    `variant_id`,
    `excluded`,
    `unit_id`,
    SUM(CASE WHEN `term_index` = 0 THEN `event_cnt` ELSE 0 END) AS `count_0`,
    SUM(CASE WHEN `term_index` = 1 THEN `event_cnt` ELSE 0 END) AS `count_1`,
    SUM(CASE WHEN `term_index` = 3 THEN `event_cnt` ELSE 0 END) AS `count_3`,
    SUM(CASE WHEN `term_index` = 4 THEN `event_cnt` ELSE 0 END) AS `count_4`,
    SUM(CASE WHEN `term_index` = 6 THEN `event_cnt` ELSE 0 END) AS `count_6`,
    SUM(CASE WHEN `term_index` = 2 THEN `event_value` ELSE 0 END) AS `value_2`,
    SUM(CASE WHEN `term_index` = 5 THEN `event_value` ELSE 0 END) AS `value_5`
  FROM `experiment_events`
  GROUP BY
    `variant_id`,
    `excluded`,
    `unit_id`
  HAVING
    COUNT(CASE WHEN `term_index` = 0 THEN 1 END) > 0 AND MAX(`unit_filter_0`) = 1
), `unit_metrics` AS (
  SELECT
    *,
    CAST(CASE WHEN `count_3` > 0 THEN 1 ELSE 0 END AS DOUBLE) AS `expression_3`,
    CAST(1 AS DOUBLE) AS `expression_6`,
    CAST(CASE WHEN `count_6` > 0 THEN 1 ELSE 0 END AS DOUBLE) AS `expression_8`
  FROM `unit_goals`
), `nominator_caps_0` AS (
  SELECT
    PERCENTILE(`value_2`, 0.99) AS `cap_0_0`
  FROM `unit_metrics`
  WHERE
    `excluded` = 0
), `nominator_caps_1` AS (
  SELECT
    PERCENTILE(`value_5`, 0.99) AS `cap_1_0`
  FROM `unit_metrics`
  WHERE
    `excluded` = 0
), `capped_metrics` AS (
  SELECT
    `unit_metrics`.*,
    CASE WHEN `value_2` > `cap_0_0` THEN `cap_0_0` ELSE `value_2` END AS `capped_9`,
    CASE WHEN `value_5` > `cap_1_0` THEN `cap_1_0` ELSE `value_5` END AS `capped_10`
  FROM `unit_metrics`
  CROSS JOIN `nominator_caps_0`
  CROSS JOIN `nominator_caps_1`
), `variant_sums` AS (
  SELECT
    `variant_id`,
    `excluded`,
    COUNT(*) AS `n`,
    SUM(`count_1`) AS `sum_0`,
    SUM(`count_0`) AS `sum_1`,
    SUM(`expression_3`) AS `sum_3`,
    SUM(`count_3`) AS `sum_4`,
    SUM(`count_4`) AS `sum_5`,
    SUM(`expression_6`) AS `sum_6`,
    SUM(`expression_8`) AS `sum_8`,
    SUM(`capped_9`) AS `sum_9`,
    SUM(`capped_10`) AS `sum_10`,
    SUM(`count_1` * `count_1`) AS `sum_0_0`,
    SUM(`count_0` * `count_0`) AS `sum_1_1`,
    SUM(`expression_3` * `expression_3`) AS `sum_3_3`,
    SUM(`count_3` * `count_3`) AS `sum_4_4`,
    SUM(`count_4` * `count_4`) AS `sum_5_5`,
    SUM(`expression_6` * `expression_6`) AS `sum_6_6`,
    SUM(`expression_8` * `expression_8`) AS `sum_8_8`,
    SUM(`capped_9` * `capped_9`) AS `sum_9_9`,
    SUM(`capped_10` * `capped_10`) AS `sum_10_10`,
    SUM(`count_1` * `count_0`) AS `sum_0_1`,
    SUM(`capped_9` * `expression_3`) AS `sum_9_3`,
    SUM(`count_3` * `count_0`) AS `sum_4_1`,
    SUM(`count_4` * `expression_6`) AS `sum_5_6`,
    SUM(`count_1` * `count_4`) AS `sum_0_5`,
    SUM(`count_1` * `expression_6`) AS `sum_0_6`,
    SUM(`count_0` * `count_4`) AS `sum_1_5`,
    SUM(`count_0` * `expression_6`) AS `sum_1_6`,
    SUM(`capped_10` * `expression_8`) AS `sum_10_8`,
    SUM(`capped_9` * `capped_10`) AS `sum_9_10`,
    SUM(`capped_9` * `expression_8`) AS `sum_9_8`,
    SUM(`expression_3` * `capped_10`) AS `sum_3_10`,
    SUM(`expression_3` * `expression_8`) AS `sum_3_8`
  FROM `capped_metrics`
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
    THEN `sum_9`
    WHEN 2
    THEN `sum_4`
    WHEN 3
    THEN `sum_1`
  END AS `sum_x`,
  CASE `row_index`
    WHEN 0
    THEN `sum_0_0`
    WHEN 1
    THEN `sum_9_9`
    WHEN 2
    THEN `sum_4_4`
    WHEN 3
    THEN `sum_1_1`
  END AS `sum_x2`,
  CASE `row_index`
    WHEN 0
    THEN `sum_1`
    WHEN 1
    THEN `sum_3`
    WHEN 2
    THEN `sum_1`
    WHEN 3
    THEN `sum_1`
  END AS `sum_y`,
  CASE `row_index`
    WHEN 0
    THEN `sum_1_1`
    WHEN 1
    THEN `sum_3_3`
    WHEN 2
    THEN `sum_1_1`
    WHEN 3
    THEN `sum_1_1`
  END AS `sum_y2`,
  CASE `row_index`
    WHEN 0
    THEN `sum_0_1`
    WHEN 1
    THEN `sum_9_3`
    WHEN 2
    THEN `sum_4_1`
    WHEN 3
    THEN `sum_1_1`
  END AS `sum_xy`,
  CASE `row_index` WHEN 0 THEN `sum_5` WHEN 1 THEN `sum_10` END AS `sum_xc`,
  CASE `row_index` WHEN 0 THEN `sum_5_5` WHEN 1 THEN `sum_10_10` END AS `sum_xc2`,
  CASE `row_index` WHEN 0 THEN `sum_6` WHEN 1 THEN `sum_8` END AS `sum_yc`,
  CASE `row_index` WHEN 0 THEN `sum_6_6` WHEN 1 THEN `sum_8_8` END AS `sum_yc2`,
  CASE `row_index` WHEN 0 THEN `sum_5_6` WHEN 1 THEN `sum_10_8` END AS `sum_xc_yc`,
  CASE `row_index` WHEN 0 THEN `sum_0_5` WHEN 1 THEN `sum_9_10` END AS `sum_x_xc`,
  CASE `row_index` WHEN 0 THEN `sum_0_6` WHEN 1 THEN `sum_9_8` END AS `sum_x_yc`,
  CASE `row_index` WHEN 0 THEN `sum_1_5` WHEN 1 THEN `sum_3_10` END AS `sum_y_xc`,
  CASE `row_index` WHEN 0 THEN `sum_1_6` WHEN 1 THEN `sum_3_8` END AS `sum_y_yc`
FROM `variant_sums`
CROSS JOIN VALUES
  (0, '1'),
  (1, '2'),
  (2, '3'),
  (3, '@exposure') AS `metric_rows`(`row_index`, `metric_id`)
