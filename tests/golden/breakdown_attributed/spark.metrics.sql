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
      WHEN `events`.`unit_type` = 'user'
      AND `events`.`goal` = 'exposure'
      AND `events`.`platform` IN ('web', 'ios', 'android')
      THEN 1
      ELSE 0
    END AS `unit_filter_0`,
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
    AND `events`.`date` >= CAST('2024-03-02' AS DATE)
    AND `events`.`date` < CAST('2024-03-11' AS DATE)
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
        `events`.`unit_type` = 'user'
        AND `events`.`goal` = 'exposure'
        AND `events`.`platform` IN ('web', 'ios', 'android')
      )
    )
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
), `unit_goals` AS (
  SELECT
    `variant_id`,
    `unit_id`,
    COALESCE(SUM(CASE WHEN `term_goal_0` THEN `event_cnt` END), 0) AS `count_0`,
    COALESCE(SUM(CASE WHEN `term_goal_1` THEN `event_cnt` END), 0) AS `count_1`,
    COALESCE(SUM(CASE WHEN `term_goal_2` AND `term_filter_0` THEN `event_value` END), 0) AS `value_2`,
    COALESCE(SUM(CASE WHEN `term_goal_2` AND `term_filter_1` THEN `event_value` END), 0) AS `value_3`
  FROM `experiment_events`
  GROUP BY
    `variant_id`,
    `unit_id`
  HAVING
    COUNT(CASE WHEN `term_goal_0` THEN 1 END) > 0 AND MAX(`unit_filter_0`) = 1
), `segmented_unit_goals` AS (
  SELECT
    `unit_goals`.*,
    `unit_segments`.`segment_0`
  FROM `unit_goals`
  LEFT JOIN `unit_segments`
    ON `unit_goals`.`variant_id` = `unit_segments`.`variant_id`
    AND `unit_goals`.`unit_id` = `unit_segments`.`unit_id`
), `unit_metrics` AS (
  SELECT
    *,
    CAST(0 AS DOUBLE) AS `expression_4`
  FROM `segmented_unit_goals`
), `variant_sums` AS (
  SELECT
    `variant_id`,
    `segment_0`,
    COUNT(*) AS `n`,
    SUM(`count_1`) AS `sum_0`,
    SUM(`count_0`) AS `sum_1`,
    SUM(`value_2`) AS `sum_2`,
    SUM(`value_3`) AS `sum_3`,
    SUM(`expression_4`) AS `sum_4`,
    SUM(`count_1` * `count_1`) AS `sum_0_0`,
    SUM(`count_0` * `count_0`) AS `sum_1_1`,
    SUM(`value_2` * `value_2`) AS `sum_2_2`,
    SUM(`value_3` * `value_3`) AS `sum_3_3`,
    SUM(`expression_4` * `expression_4`) AS `sum_4_4`,
    SUM(`count_1` * `count_0`) AS `sum_0_1`,
    SUM(`value_2` * `value_3`) AS `sum_2_3`,
    SUM(`expression_4` * `count_0`) AS `sum_4_1`
  FROM `unit_metrics`
  GROUP BY
    `variant_id`,
    `segment_0`
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
  END AS `sum_xy`
FROM `variant_sums`
CROSS JOIN VALUES
  (0, '1'),
  (1, '2'),
  (2, '@check:1'),
  (3, '@exposure') AS `metric_rows`(`row_index`, `metric_id`)
