WITH `experiment_exposures` AS (
  SELECT
    CAST(`exposures`.`variant_id` AS STRING) AS `variant_id`,
    `exposures`.`unit_id` AS `unit_id`,
    `exposures`.`country` AS `country`,
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
    CAST(NULL AS FLOAT64) AS `value`,
    CASE WHEN `exposed_units`.`unit_variant` IS NULL THEN 1 ELSE 0 END AS `excluded`
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
    0 AS `excluded`
  FROM `events` AS `events`
  JOIN `exposed_units`
    ON `events`.`unit_id` = `exposed_units`.`unit_id`
    AND NOT `exposed_units`.`unit_variant` IS NULL
  WHERE
    `events`.`event` IN ('click', 'purchase')
    AND `events`.`timestamp` >= `exposed_units`.`first_exposure`
    AND `events`.`timestamp` < `exposed_units`.`first_exposure` + INTERVAL 259200 SECOND
    AND `events`.`timestamp` >= CAST('2024-03-01 00:00:00' AS TIMESTAMP)
    AND `events`.`timestamp` < CAST('2024-03-08 00:00:00' AS TIMESTAMP)
), `experiment_events` AS (
  SELECT
    `events`.`variant_id` AS `variant_id`,
    `events`.`excluded` AS `excluded`,
    `events`.`unit_id` AS `unit_id`,
    CAST(COALESCE(`events`.`cnt`, 0) AS FLOAT64) AS `event_cnt`,
    CAST(COALESCE(`events`.`value`, 0) AS FLOAT64) AS `event_value`,
    CASE
      WHEN `events`.`goal` = 'exposure'
      THEN 0
      WHEN `events`.`goal` = 'click'
      THEN 1
      WHEN `events`.`goal` = 'purchase'
      THEN 2
    END AS `term_index`
  FROM `attributed_events` AS `events`
  WHERE
    `events`.`goal` IN ('exposure', 'click', 'purchase')
), `unit_segments` AS (
  SELECT
    `unit_id`,
    `segment_0`,
    `segment_1`
  FROM (
    SELECT
      `unit_id`,
      `country` AS `segment_0`,
      `platform` AS `segment_1`,
      ROW_NUMBER() OVER (
        PARTITION BY `unit_id`
        ORDER BY `exposure_timestamp` NULLS LAST, `country` NULLS LAST, `platform` NULLS LAST, `variant_id` NULLS LAST
      ) AS `segment_rank`
    FROM `experiment_exposures`
  ) AS `ranked_segments`
  WHERE
    `segment_rank` = 1
), `unit_goals` AS (
  SELECT
    `variant_id`,
    `excluded`,
    `unit_id`,
    SUM(CASE WHEN `term_index` = 0 THEN `event_cnt` ELSE 0 END) AS `count_0`,
    SUM(CASE WHEN `term_index` = 1 THEN `event_cnt` ELSE 0 END) AS `count_1`,
    SUM(CASE WHEN `term_index` = 2 THEN `event_value` ELSE 0 END) AS `value_2`
  FROM `experiment_events`
  GROUP BY
    `variant_id`,
    `excluded`,
    `unit_id`
  HAVING
    COUNT(CASE WHEN `term_index` = 0 THEN 1 END) > 0
), `segmented_unit_goals` AS (
  SELECT
    `unit_goals`.*,
    `unit_segments`.`segment_0`,
    `unit_segments`.`segment_1`
  FROM `unit_goals`
  LEFT JOIN `unit_segments`
    ON `unit_goals`.`unit_id` = `unit_segments`.`unit_id`
), `unit_metrics` AS (
  SELECT
    *
  FROM `segmented_unit_goals`
), `nominator_caps_0` AS (
  SELECT
    PERCENTILE_CONT(`count_1`, 0.99) OVER () AS `cap_0_0`
  FROM `unit_metrics`
  WHERE
    `excluded` = 0
  LIMIT 1
), `capped_metrics` AS (
  SELECT
    `unit_metrics`.*,
    CASE WHEN `count_1` > `cap_0_0` THEN `cap_0_0` ELSE `count_1` END AS `capped_3`
  FROM `unit_metrics`
  CROSS JOIN `nominator_caps_0`
), `variant_sums` AS (
  SELECT
    `variant_id`,
    `excluded`,
    `segment_0`,
    `segment_1`,
    COUNT(*) AS `n`,
    SUM(`count_0`) AS `sum_1`,
    SUM(`value_2`) AS `sum_2`,
    SUM(`capped_3`) AS `sum_3`,
    SUM(`count_0` * `count_0`) AS `sum_1_1`,
    SUM(`value_2` * `value_2`) AS `sum_2_2`,
    SUM(`capped_3` * `capped_3`) AS `sum_3_3`,
    SUM(`capped_3` * `count_0`) AS `sum_3_1`,
    SUM(`value_2` * `count_0`) AS `sum_2_1`
  FROM `capped_metrics`
  GROUP BY
    `variant_id`,
    `excluded`,
    `segment_0`,
    `segment_1`
)
SELECT
  'exp-1' AS `exp_id`,
  CASE WHEN `excluded` = 1 THEN '@multiple:' || `variant_id` ELSE `variant_id` END AS `exp_variant_id`,
  `metric_id` AS `metric_id`,
  `segment_0` AS `country`,
  `segment_1` AS `platform`,
  `n` AS `n`,
  CASE `row_index` WHEN 0 THEN `sum_3` WHEN 1 THEN `sum_2` WHEN 2 THEN `sum_1` END AS `sum_x`,
  CASE `row_index` WHEN 0 THEN `sum_3_3` WHEN 1 THEN `sum_2_2` WHEN 2 THEN `sum_1_1` END AS `sum_x2`,
  `sum_1` AS `sum_y`,
  `sum_1_1` AS `sum_y2`,
  CASE `row_index` WHEN 0 THEN `sum_3_1` WHEN 1 THEN `sum_2_1` WHEN 2 THEN `sum_1_1` END AS `sum_xy`
FROM `variant_sums`
CROSS JOIN UNNEST([
  STRUCT(0 AS `row_index`, '1' AS `metric_id`),
  STRUCT(1 AS `row_index`, '2' AS `metric_id`),
  STRUCT(2 AS `row_index`, '@exposure' AS `metric_id`)
]) AS `metric_rows`
