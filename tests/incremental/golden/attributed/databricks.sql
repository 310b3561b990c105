CREATE TABLE `expsql_state`.`expsql_state_78202803eeb7_v4_events_0_recent` AS
SELECT
  `expsql_rows`.`exp_id` AS `exp_id`,
  `expsql_rows`.`exp_variant_id` AS `exp_variant_id`,
  `expsql_rows`.`unit_type` AS `unit_type`,
  `expsql_rows`.`agg_type` AS `agg_type`,
  `expsql_rows`.`goal` AS `goal`,
  `expsql_rows`.`unit_id` AS `unit_id`,
  `expsql_rows`.`product` AS `product`,
  MIN(`expsql_rows`.`date`) AS `date`,
  SUM(`expsql_rows`.`cnt`) AS `cnt`,
  SUM(`expsql_rows`.`value`) AS `value`
FROM (
  SELECT
    `events`.`exp_id` AS `exp_id`,
    `events`.`exp_variant_id` AS `exp_variant_id`,
    `events`.`unit_type` AS `unit_type`,
    `events`.`agg_type` AS `agg_type`,
    `events`.`goal` AS `goal`,
    `events`.`unit_id` AS `unit_id`,
    `events`.`product` AS `product`,
    `events`.`date` AS `date`,
    `events`.`cnt` AS `cnt`,
    `events`.`value` AS `value`
  FROM `expsql_state`.`expsql_state_78202803eeb7_v3_events_0_recent` AS `events`
  UNION ALL
  SELECT
    `events`.`exp_id` AS `exp_id`,
    `events`.`exp_variant_id` AS `exp_variant_id`,
    `events`.`unit_type` AS `unit_type`,
    `events`.`agg_type` AS `agg_type`,
    `events`.`goal` AS `goal`,
    `events`.`unit_id` AS `unit_id`,
    `events`.`product` AS `product`,
    `events`.`date` AS `date`,
    `events`.`cnt` AS `cnt`,
    `events`.`value` AS `value`
  FROM `analytics`.`events` AS `events`
  WHERE
    `events`.`exp_id` = 'checkout-2026'
    AND `events`.`date` >= CAST('2026-11-01' AS DATE)
    AND `events`.`date` < CAST('2026-11-29' AS DATE)
    AND `events`.`date` >= CAST('2026-11-12' AS DATE)
    AND `events`.`date` < CAST('2026-11-13' AS DATE)
) AS `expsql_rows`
GROUP BY
  `expsql_rows`.`exp_id`,
  `expsql_rows`.`exp_variant_id`,
  `expsql_rows`.`unit_type`,
  `expsql_rows`.`agg_type`,
  `expsql_rows`.`goal`,
  `expsql_rows`.`unit_id`,
  `expsql_rows`.`product`,
  CAST(`expsql_rows`.`date` AS DATE);

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
      AND `events`.`goal` = 'purchase'
      THEN CASE WHEN `events`.`product` = 'p_1' THEN 1 END
    END AS `term_index`,
    CAST(`events`.`date` AS DATE) AS `day`
  FROM (
    SELECT
      `events`.`exp_id` AS `exp_id`,
      `events`.`exp_variant_id` AS `exp_variant_id`,
      `events`.`unit_type` AS `unit_type`,
      `events`.`agg_type` AS `agg_type`,
      `events`.`goal` AS `goal`,
      `events`.`unit_id` AS `unit_id`,
      `events`.`product` AS `product`,
      `events`.`date` AS `date`,
      `events`.`cnt` AS `cnt`,
      `events`.`value` AS `value`
    FROM `expsql_state`.`expsql_state_78202803eeb7_v1_events_0_base` AS `events`
    UNION ALL
    SELECT
      `events`.`exp_id` AS `exp_id`,
      `events`.`exp_variant_id` AS `exp_variant_id`,
      `events`.`unit_type` AS `unit_type`,
      `events`.`agg_type` AS `agg_type`,
      `events`.`goal` AS `goal`,
      `events`.`unit_id` AS `unit_id`,
      `events`.`product` AS `product`,
      `events`.`date` AS `date`,
      `events`.`cnt` AS `cnt`,
      `events`.`value` AS `value`
    FROM `expsql_state`.`expsql_state_78202803eeb7_v4_events_0_recent` AS `events`
    UNION ALL
    SELECT
      `events`.`exp_id` AS `exp_id`,
      `events`.`exp_variant_id` AS `exp_variant_id`,
      `events`.`unit_type` AS `unit_type`,
      `events`.`agg_type` AS `agg_type`,
      `events`.`goal` AS `goal`,
      `events`.`unit_id` AS `unit_id`,
      `events`.`product` AS `product`,
      `events`.`date` AS `date`,
      `events`.`cnt` AS `cnt`,
      `events`.`value` AS `value`
    FROM `analytics`.`events` AS `events`
    WHERE
      `events`.`exp_id` = 'checkout-2026'
      AND `events`.`date` >= CAST('2026-11-01' AS DATE)
      AND `events`.`date` < CAST('2026-11-29' AS DATE)
      AND `events`.`date` >= CAST('2026-11-13' AS DATE)
  ) AS `events`
  WHERE
    `events`.`exp_id` = 'checkout-2026'
    AND `events`.`date` >= CAST('2026-11-01' AS DATE)
    AND `events`.`date` < CAST('2026-11-29' AS DATE)
    AND `events`.`unit_type` = 'user'
    AND `events`.`agg_type` IN ('global', 'unit')
    AND (
      `events`.`goal` = 'exposure'
      OR (
        `events`.`unit_type` = 'user'
        AND `events`.`agg_type` = 'unit'
        AND `events`.`goal` = 'purchase'
        AND `events`.`product` = 'p_1'
      )
    )
), `unit_days` AS (
  SELECT
    `variant_id`,
    `unit_id`,
    `day`,
    SUM(CASE WHEN `term_index` = 0 THEN `event_cnt` ELSE 0 END) AS `count_0`,
    SUM(CASE WHEN `term_index` = 1 THEN `event_cnt` ELSE 0 END) AS `count_1`,
    COUNT(CASE WHEN `term_index` = 0 THEN 1 END) AS `exposure_events`
  FROM `experiment_events`
  GROUP BY
    `variant_id`,
    `unit_id`,
    `day`
), `unit_cumulative` AS (
  SELECT
    *,
    SUM(`count_0`) OVER (
      PARTITION BY `unit_id`, `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `cumulative_count_0`,
    SUM(`count_1`) OVER (
      PARTITION BY `unit_id`, `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `cumulative_count_1`,
    SUM(`exposure_events`) OVER (
      PARTITION BY `unit_id`, `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `cumulative_exposure_events`
  FROM `unit_days`
), `unit_entries` AS (
  SELECT
    *,
    CASE WHEN `cumulative_exposure_events` = `exposure_events` THEN 1 ELSE 0 END AS `entered`
  FROM `unit_cumulative`
  WHERE
    `cumulative_exposure_events` > 0
), `unit_metrics` AS (
  SELECT
    `variant_id`,
    `day`,
    `entered`,
    `cumulative_count_1` AS `current_0`,
    CASE WHEN `entered` = 1 THEN 0 ELSE (
      `cumulative_count_1` - `count_1`
    ) END AS `previous_current_0`,
    `cumulative_count_0` AS `current_1`,
    CASE WHEN `entered` = 1 THEN 0 ELSE (
      `cumulative_count_0` - `count_0`
    ) END AS `previous_current_1`
  FROM `unit_entries`
), `variant_days` AS (
  SELECT
    `variant_id`,
    `day`,
    SUM(`entered`) AS `n`,
    SUM(`current_0` - `previous_current_0`) AS `sum_0`,
    SUM(`current_1` - `previous_current_1`) AS `sum_1`,
    SUM(`current_0` * `current_0` - `previous_current_0` * `previous_current_0`) AS `sum_0_0`,
    SUM(`current_1` * `current_1` - `previous_current_1` * `previous_current_1`) AS `sum_1_1`,
    SUM(`current_0` * `current_1` - `previous_current_0` * `previous_current_1`) AS `sum_0_1`
  FROM `unit_metrics`
  GROUP BY
    `variant_id`,
    `day`
), `variant_sums` AS (
  SELECT
    `variant_id`,
    `day`,
    CAST(SUM(`n`) OVER (
      PARTITION BY `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS BIGINT) AS `n`,
    SUM(`sum_0`) OVER (
      PARTITION BY `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_0`,
    SUM(`sum_1`) OVER (
      PARTITION BY `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_1`,
    SUM(`sum_0_0`) OVER (
      PARTITION BY `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_0_0`,
    SUM(`sum_1_1`) OVER (
      PARTITION BY `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_1_1`,
    SUM(`sum_0_1`) OVER (
      PARTITION BY `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_0_1`
  FROM `variant_days`
)
SELECT
  'checkout-2026' AS `exp_id`,
  `variant_id` AS `exp_variant_id`,
  `metric_id` AS `metric_id`,
  `n` AS `n`,
  CASE `row_index` WHEN 0 THEN `sum_0` WHEN 1 THEN `sum_1` END AS `sum_x`,
  CASE `row_index` WHEN 0 THEN `sum_0_0` WHEN 1 THEN `sum_1_1` END AS `sum_x2`,
  `sum_1` AS `sum_y`,
  `sum_1_1` AS `sum_y2`,
  CASE `row_index` WHEN 0 THEN `sum_0_1` WHEN 1 THEN `sum_1_1` END AS `sum_xy`,
  `day`
FROM `variant_sums`
CROSS JOIN VALUES
  (0, '1'),
  (1, '@exposure') AS `metric_rows`(`row_index`, `metric_id`);
