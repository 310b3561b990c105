WITH `experiment_events` AS (
  SELECT
    `events`.`exp_variant_id` AS `variant_id`,
    `events`.`unit_id` AS `unit_id`,
    CAST(COALESCE(`events`.`cnt`, 0) AS DOUBLE) AS `event_cnt`,
    CAST(COALESCE(`events`.`value`, 0) AS DOUBLE) AS `event_value`,
    `events`.`agg_type` = 'global' AND `events`.`goal` = 'exposure' AS `term_goal_0`,
    `events`.`agg_type` = 'unit' AND `events`.`goal` = 'click' AS `term_goal_1`,
    `events`.`agg_type` = 'unit' AND `events`.`goal` = 'conversion' AS `term_goal_2`,
    `events`.`product` = 'p_1' AS `term_filter_0`,
    STARTSWITH(`events`.`product`, 'p_') AS `term_filter_1`,
    CASE
      WHEN `events`.`unit_type` = 'user' AND `events`.`goal` = 'view'
      THEN 1
      ELSE 0
    END AS `unit_filter_0`,
    CAST(`events`.`date` AS DATE) AS `day`
  FROM `events` AS `events`
  WHERE
    `events`.`exp_id` = 'exp-1'
    AND `events`.`date` >= CAST('2024-03-01' AS DATE)
    AND `events`.`date` < CAST('2024-03-08' AS DATE)
    AND `events`.`unit_type` = 'user'
    AND (
      (
        `events`.`agg_type` IN ('global', 'unit')
        AND (
          `events`.`goal` IN ('exposure', 'click')
          OR (
            `events`.`unit_type` = 'user'
            AND `events`.`agg_type` = 'unit'
            AND `events`.`goal` = 'conversion'
            AND (
              `events`.`product` = 'p_1' OR STARTSWITH(`events`.`product`, 'p_')
            )
          )
        )
      )
      OR (
        `events`.`unit_type` = 'user' AND `events`.`goal` = 'view'
      )
    )
), `unit_days` AS (
  SELECT
    `variant_id`,
    `unit_id`,
    `day`,
    COALESCE(SUM(CASE WHEN `term_goal_0` THEN `event_cnt` END), 0) AS `count_0`,
    COALESCE(SUM(CASE WHEN `term_goal_1` THEN `event_cnt` END), 0) AS `count_1`,
    COALESCE(SUM(CASE WHEN `term_goal_2` AND `term_filter_1` THEN `event_cnt` END), 0) AS `count_3`,
    COALESCE(SUM(CASE WHEN `term_goal_2` AND `term_filter_0` THEN `event_value` END), 0) AS `value_2`,
    COUNT(CASE WHEN `term_goal_0` THEN 1 END) AS `exposure_events`,
    MAX(`unit_filter_0`) AS `passed_unit_filter_0`
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
    SUM(`count_3`) OVER (
      PARTITION BY `unit_id`, `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `cumulative_count_3`,
    SUM(`value_2`) OVER (
      PARTITION BY `unit_id`, `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `cumulative_value_2`,
    SUM(`exposure_events`) OVER (
      PARTITION BY `unit_id`, `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `cumulative_exposure_events`,
    SUM(`passed_unit_filter_0`) OVER (
      PARTITION BY `unit_id`, `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `cumulative_passed_unit_filter_0`
  FROM `unit_days`
), `unit_entries` AS (
  SELECT
    *,
    CASE
      WHEN `cumulative_exposure_events` = `exposure_events`
      OR `cumulative_passed_unit_filter_0` = `passed_unit_filter_0`
      THEN 1
      ELSE 0
    END AS `entered`
  FROM `unit_cumulative`
  WHERE
    `cumulative_exposure_events` > 0 AND `cumulative_passed_unit_filter_0` > 0
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
    ) END AS `previous_current_1`,
    `cumulative_value_2` AS `current_2`,
    CASE WHEN `entered` = 1 THEN 0 ELSE (
      `cumulative_value_2` - `value_2`
    ) END AS `previous_current_2`,
    CAST(CASE WHEN `cumulative_count_3` > 0 THEN 1 ELSE 0 END AS DOUBLE) AS `current_3`,
    CASE
      WHEN `entered` = 1
      THEN 0
      ELSE CAST(CASE WHEN (
        `cumulative_count_3` - `count_3`
      ) > 0 THEN 1 ELSE 0 END AS DOUBLE)
    END AS `previous_current_3`,
    CAST(0 AS DOUBLE) AS `current_4`,
    CASE WHEN `entered` = 1 THEN 0 ELSE CAST(0 AS DOUBLE) END AS `previous_current_4`
  FROM `unit_entries`
), `variant_days` AS (
  SELECT
    `variant_id`,
    `day`,
    SUM(`entered`) AS `n`,
    SUM(`current_0` - `previous_current_0`) AS `sum_0`,
    SUM(`current_1` - `previous_current_1`) AS `sum_1`,
    SUM(`current_2` - `previous_current_2`) AS `sum_2`,
    SUM(`current_3` - `previous_current_3`) AS `sum_3`,
    SUM(`current_4` - `previous_current_4`) AS `sum_4`,
    SUM(`current_0` * `current_0` - `previous_current_0` * `previous_current_0`) AS `sum_0_0`,
    SUM(`current_1` * `current_1` - `previous_current_1` * `previous_current_1`) AS `sum_1_1`,
    SUM(`current_2` * `current_2` - `previous_current_2` * `previous_current_2`) AS `sum_2_2`,
    SUM(`current_3` * `current_3` - `previous_current_3` * `previous_current_3`) AS `sum_3_3`,
    SUM(`current_4` * `current_4` - `previous_current_4` * `previous_current_4`) AS `sum_4_4`,
    SUM(`current_0` * `current_1` - `previous_current_0` * `previous_current_1`) AS `sum_0_1`,
    SUM(`current_2` * `current_3` - `previous_current_2` * `previous_current_3`) AS `sum_2_3`,
    SUM(`current_4` * `current_1` - `previous_current_4` * `previous_current_1`) AS `sum_4_1`
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
    SUM(`sum_2`) OVER (
      PARTITION BY `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_2`,
    SUM(`sum_3`) OVER (
      PARTITION BY `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_3`,
    SUM(`sum_4`) OVER (
      PARTITION BY `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_4`,
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
    SUM(`sum_2_2`) OVER (
      PARTITION BY `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_2_2`,
    SUM(`sum_3_3`) OVER (
      PARTITION BY `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_3_3`,
    SUM(`sum_4_4`) OVER (
      PARTITION BY `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_4_4`,
    SUM(`sum_0_1`) OVER (
      PARTITION BY `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_0_1`,
    SUM(`sum_2_3`) OVER (
      PARTITION BY `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_2_3`,
    SUM(`sum_4_1`) OVER (
      PARTITION BY `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_4_1`
  FROM `variant_days`
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
    THEN `sum_2`
    WHEN 2
    THEN `sum_4`
    WHEN 3
    THEN `sum_1`
  END AS `sum_x`,
  CASE `row_index`
    WHEN 0
    THEN `sum_0_0`
    WHEN 1
    THEN `sum_2_2`
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
    THEN `sum_2_3`
    WHEN 2
    THEN `sum_4_1`
    WHEN 3
    THEN `sum_1_1`
  END AS `sum_xy`,
  `day`
FROM `variant_sums`
CROSS JOIN VALUES
  (0, '1'),
  (1, '2'),
  (2, '@check:1'),
  (3, '@exposure') AS `metric_rows`(`row_index`, `metric_id`)
