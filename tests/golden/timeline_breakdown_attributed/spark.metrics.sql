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
      AND `events`.`goal` = 'click'
      THEN 1
      WHEN `events`.`unit_type` = 'user'
      AND `events`.`agg_type` = 'unit'
      AND `events`.`goal` = 'conversion'
      THEN 2
    END AS `term_index`,
    CAST(`events`.`date` AS DATE) AS `day`,
    `events`.`platform` AS `segment_0`,
    `events`.`date` AS `segment_date`,
    CASE
      WHEN `events`.`unit_type` = 'user'
      AND `events`.`agg_type` = 'global'
      AND `events`.`goal` = 'exposure'
      THEN 1
      ELSE 0
    END AS `segment_exposure`
  FROM `events` AS `events`
  WHERE
    `events`.`exp_id` = 'exp-1'
    AND `events`.`date` >= CAST('2024-03-01' AS DATE)
    AND `events`.`date` < CAST('2024-03-08' AS DATE)
    AND `events`.`unit_type` = 'user'
    AND `events`.`agg_type` IN ('global', 'unit')
    AND `events`.`goal` IN ('exposure', 'click', 'conversion')
), `unit_segments` AS (
  SELECT
    `variant_id`,
    `unit_id`,
    `segment_0`
  FROM (
    SELECT
      `variant_id`,
      `unit_id`,
      `segment_0`,
      ROW_NUMBER() OVER (
        PARTITION BY `variant_id`, `unit_id`
        ORDER BY `segment_date` NULLS LAST, `segment_0` NULLS LAST
      ) AS `segment_rank`
    FROM `experiment_events`
    WHERE
      `segment_exposure` = 1
  ) AS `ranked_segments`
  WHERE
    `segment_rank` = 1
), `unit_days` AS (
  SELECT
    `variant_id`,
    `unit_id`,
    `day`,
    SUM(CASE WHEN `term_index` = 0 THEN `event_cnt` ELSE 0 END) AS `count_0`,
    SUM(CASE WHEN `term_index` = 1 THEN `event_cnt` ELSE 0 END) AS `count_1`,
    SUM(CASE WHEN `term_index` = 2 THEN `event_cnt` ELSE 0 END) AS `count_2`,
    SUM(CASE WHEN `term_index` = 2 THEN `event_value` ELSE 0 END) AS `value_2`,
    COUNT(CASE WHEN `term_index` = 0 THEN 1 END) AS `exposure_events`
  FROM `experiment_events`
  GROUP BY
    `variant_id`,
    `unit_id`,
    `day`
), `segmented_unit_days` AS (
  SELECT
    `unit_days`.*,
    `unit_segments`.`segment_0`
  FROM `unit_days`
  LEFT JOIN `unit_segments`
    ON `unit_days`.`variant_id` = `unit_segments`.`variant_id`
    AND `unit_days`.`unit_id` = `unit_segments`.`unit_id`
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
    SUM(`count_2`) OVER (
      PARTITION BY `unit_id`, `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `cumulative_count_2`,
    SUM(`value_2`) OVER (
      PARTITION BY `unit_id`, `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `cumulative_value_2`,
    SUM(`exposure_events`) OVER (
      PARTITION BY `unit_id`, `variant_id`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `cumulative_exposure_events`
  FROM `segmented_unit_days`
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
    `segment_0`,
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
    CAST(CASE WHEN `cumulative_count_2` > 0 THEN 1 ELSE 0 END AS DOUBLE) AS `current_3`,
    CASE
      WHEN `entered` = 1
      THEN 0
      ELSE CAST(CASE WHEN (
        `cumulative_count_2` - `count_2`
      ) > 0 THEN 1 ELSE 0 END AS DOUBLE)
    END AS `previous_current_3`,
    CAST(0 AS DOUBLE) AS `current_4`,
    CASE WHEN `entered` = 1 THEN 0 ELSE CAST(0 AS DOUBLE) END AS `previous_current_4`
  FROM `unit_entries`
), `variant_days` AS (
  SELECT
    `variant_id`,
    `segment_0`,
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
    `segment_0`,
    `day`
), `variant_sums` AS (
  SELECT
    `variant_id`,
    `segment_0`,
    `day`,
    CAST(SUM(`n`) OVER (
      PARTITION BY `variant_id`, `segment_0`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS BIGINT) AS `n`,
    SUM(`sum_0`) OVER (
      PARTITION BY `variant_id`, `segment_0`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_0`,
    SUM(`sum_1`) OVER (
      PARTITION BY `variant_id`, `segment_0`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_1`,
    SUM(`sum_2`) OVER (
      PARTITION BY `variant_id`, `segment_0`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_2`,
    SUM(`sum_3`) OVER (
      PARTITION BY `variant_id`, `segment_0`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_3`,
    SUM(`sum_4`) OVER (
      PARTITION BY `variant_id`, `segment_0`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_4`,
    SUM(`sum_0_0`) OVER (
      PARTITION BY `variant_id`, `segment_0`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_0_0`,
    SUM(`sum_1_1`) OVER (
      PARTITION BY `variant_id`, `segment_0`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_1_1`,
    SUM(`sum_2_2`) OVER (
      PARTITION BY `variant_id`, `segment_0`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_2_2`,
    SUM(`sum_3_3`) OVER (
      PARTITION BY `variant_id`, `segment_0`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_3_3`,
    SUM(`sum_4_4`) OVER (
      PARTITION BY `variant_id`, `segment_0`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_4_4`,
    SUM(`sum_0_1`) OVER (
      PARTITION BY `variant_id`, `segment_0`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_0_1`,
    SUM(`sum_2_3`) OVER (
      PARTITION BY `variant_id`, `segment_0`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_2_3`,
    SUM(`sum_4_1`) OVER (
      PARTITION BY `variant_id`, `segment_0`
      ORDER BY `day`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `sum_4_1`
  FROM `variant_days`
)
SELECT
  'exp-1' AS `exp_id`,
  `variant_id` AS `exp_variant_id`,
  `metric_id` AS `metric_id`,
  `segment_0` AS `platform`,
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
