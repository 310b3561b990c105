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
    CAST(NULL AS FLOAT64) AS `value`,
    CASE WHEN `exposed_units`.`unit_variant` IS NULL THEN 1 ELSE 0 END AS `excluded`,
    `experiment_exposures`.`exposure_timestamp` AS `event_timestamp`,
    `exposed_units`.`first_exposure` AS `first_exposure`,
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
    `events`.`timestamp` AS `event_timestamp`,
    `exposed_units`.`first_exposure` AS `first_exposure`,
    `events`.`product` AS `product`
  FROM `events` AS `events`
  JOIN `exposed_units`
    ON `events`.`unit_id` = `exposed_units`.`unit_id`
    AND NOT `exposed_units`.`unit_variant` IS NULL
  WHERE
    `events`.`event` = 'purchase'
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
    `events`.`goal` = 'exposure' AS `term_goal_0`,
    `events`.`goal` = 'purchase' AS `term_goal_1`,
    `events`.`product` = 'p_1' AS `term_filter_0`,
    `events`.`event_timestamp` < `events`.`first_exposure` + INTERVAL 86400 SECOND AS `term_filter_1`
  FROM `attributed_events` AS `events`
  WHERE
    `events`.`goal` IN ('exposure', 'purchase')
), `unit_segments` AS (
  SELECT
    `unit_id`,
    `segment_0`
  FROM (
    SELECT
      `unit_id`,
      `platform` AS `segment_0`,
      ROW_NUMBER() OVER (
        PARTITION BY `unit_id`
        ORDER BY `exposure_timestamp` NULLS LAST, `platform` NULLS LAST, `variant_id` NULLS LAST
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
    COALESCE(SUM(CASE WHEN `term_goal_0` THEN `event_cnt` END), 0) AS `count_0`,
    COALESCE(SUM(CASE WHEN `term_goal_1` THEN `event_value` END), 0) AS `value_1`,
    COALESCE(
      SUM(
        CASE
          WHEN `term_goal_1` AND `term_filter_0` AND `term_filter_1`
          THEN `event_value`
        END
      ),
      0
    ) AS `value_2`
  FROM `experiment_events`
  GROUP BY
    `variant_id`,
    `excluded`,
    `unit_id`
  HAVING
    COUNT(CASE WHEN `term_goal_0` THEN 1 END) > 0
), `segmented_unit_goals` AS (
  SELECT
    `unit_goals`.*,
    `unit_segments`.`segment_0`
  FROM `unit_goals`
  LEFT JOIN `unit_segments`
    ON `unit_goals`.`unit_id` = `unit_segments`.`unit_id`
), `unit_metrics` AS (
  SELECT
    *,
    CAST(1 AS FLOAT64) AS `expression_2`,
    CAST(1 AS FLOAT64) AS `expression_4`
  FROM `segmented_unit_goals`
), `variant_sums` AS (
  SELECT
    `variant_id`,
    `excluded`,
    `segment_0`,
    COUNT(*) AS `n`,
    SUM(`value_1`) AS `sum_0`,
    SUM(`count_0`) AS `sum_1`,
    SUM(`expression_2`) AS `sum_2`,
    SUM(`value_2`) AS `sum_3`,
    SUM(`expression_4`) AS `sum_4`,
    SUM(`count_0`) AS `sum_5`,
    SUM(`value_1` * `value_1`) AS `sum_0_0`,
    SUM(`count_0` * `count_0`) AS `sum_1_1`,
    SUM(`expression_2` * `expression_2`) AS `sum_2_2`,
    SUM(`value_2` * `value_2`) AS `sum_3_3`,
    SUM(`expression_4` * `expression_4`) AS `sum_4_4`,
    SUM(`count_0` * `count_0`) AS `sum_5_5`,
    SUM(`value_1` * `count_0`) AS `sum_0_1`,
    SUM(`value_1` * `expression_2`) AS `sum_0_2`,
    SUM(`value_2` * `expression_4`) AS `sum_3_4`
  FROM `unit_metrics`
  GROUP BY
    `variant_id`,
    `excluded`,
    `segment_0`
), `quantile_ranks_0` AS (
  SELECT
    `variant_id`,
    `excluded`,
    `segment_0`,
    `value_1` AS `quantile_value`,
    ROW_NUMBER() OVER (PARTITION BY `variant_id`, `excluded`, `segment_0` ORDER BY `value_1`) AS `quantile_rank`,
    COUNT(*) OVER (PARTITION BY `variant_id`, `excluded`, `segment_0`) AS `quantile_count`
  FROM `unit_metrics`
  WHERE
    `excluded` = 0
), `quantile_positions_0` AS (
  SELECT
    *,
    FLOOR((
      `quantile_count` - 1
    ) * (
      0.5
    )) + 1 AS `quantile_below_0`,
    (
      `quantile_count` - 1
    ) * (
      0.5
    ) - FLOOR((
      `quantile_count` - 1
    ) * (
      0.5
    )) AS `quantile_weight_0`,
    FLOOR(
      (
        `quantile_count` - 1
      ) * (
        CASE
          WHEN 0.5 - 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) < 0
          THEN 0
          WHEN 0.5 - 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) > 1
          THEN 1
          ELSE 0.5 - 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64))
        END
      )
    ) + 1 AS `quantile_below_1`,
    (
      `quantile_count` - 1
    ) * (
      CASE
        WHEN 0.5 - 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) < 0
        THEN 0
        WHEN 0.5 - 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) > 1
        THEN 1
        ELSE 0.5 - 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64))
      END
    ) - FLOOR(
      (
        `quantile_count` - 1
      ) * (
        CASE
          WHEN 0.5 - 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) < 0
          THEN 0
          WHEN 0.5 - 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) > 1
          THEN 1
          ELSE 0.5 - 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64))
        END
      )
    ) AS `quantile_weight_1`,
    FLOOR(
      (
        `quantile_count` - 1
      ) * (
        CASE
          WHEN 0.5 + 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) < 0
          THEN 0
          WHEN 0.5 + 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) > 1
          THEN 1
          ELSE 0.5 + 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64))
        END
      )
    ) + 1 AS `quantile_below_2`,
    (
      `quantile_count` - 1
    ) * (
      CASE
        WHEN 0.5 + 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) < 0
        THEN 0
        WHEN 0.5 + 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) > 1
        THEN 1
        ELSE 0.5 + 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64))
      END
    ) - FLOOR(
      (
        `quantile_count` - 1
      ) * (
        CASE
          WHEN 0.5 + 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) < 0
          THEN 0
          WHEN 0.5 + 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) > 1
          THEN 1
          ELSE 0.5 + 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64))
        END
      )
    ) AS `quantile_weight_2`
  FROM `quantile_ranks_0`
), `quantile_0` AS (
  SELECT
    `variant_id` AS `quantile_0_variant_id`,
    `excluded` AS `quantile_0_excluded`,
    `segment_0` AS `quantile_0_segment_0`,
    MAX(`quantile_count`) AS `quantile_0_n`,
    SUM(
      CASE
        WHEN `quantile_rank` = `quantile_below_0`
        THEN `quantile_value` * (
          1 - `quantile_weight_0`
        )
        WHEN `quantile_rank` = `quantile_below_0` + 1
        THEN `quantile_value` * `quantile_weight_0`
      END
    ) AS `quantile_0_hat`,
    SUM(
      CASE
        WHEN `quantile_rank` = `quantile_below_1`
        THEN `quantile_value` * (
          1 - `quantile_weight_1`
        )
        WHEN `quantile_rank` = `quantile_below_1` + 1
        THEN `quantile_value` * `quantile_weight_1`
      END
    ) AS `quantile_0_lower`,
    SUM(
      CASE
        WHEN `quantile_rank` = `quantile_below_2`
        THEN `quantile_value` * (
          1 - `quantile_weight_2`
        )
        WHEN `quantile_rank` = `quantile_below_2` + 1
        THEN `quantile_value` * `quantile_weight_2`
      END
    ) AS `quantile_0_upper`
  FROM `quantile_positions_0`
  GROUP BY
    `variant_id`,
    `excluded`,
    `segment_0`
), `quantile_ranks_overall_0` AS (
  SELECT
    `variant_id`,
    `excluded`,
    `value_1` AS `quantile_value`,
    ROW_NUMBER() OVER (PARTITION BY `variant_id`, `excluded` ORDER BY `value_1`) AS `quantile_rank`,
    COUNT(*) OVER (PARTITION BY `variant_id`, `excluded`) AS `quantile_count`
  FROM `unit_metrics`
  WHERE
    `excluded` = 0
), `quantile_positions_overall_0` AS (
  SELECT
    *,
    FLOOR((
      `quantile_count` - 1
    ) * (
      0.5
    )) + 1 AS `quantile_below_0`,
    (
      `quantile_count` - 1
    ) * (
      0.5
    ) - FLOOR((
      `quantile_count` - 1
    ) * (
      0.5
    )) AS `quantile_weight_0`,
    FLOOR(
      (
        `quantile_count` - 1
      ) * (
        CASE
          WHEN 0.5 - 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) < 0
          THEN 0
          WHEN 0.5 - 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) > 1
          THEN 1
          ELSE 0.5 - 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64))
        END
      )
    ) + 1 AS `quantile_below_1`,
    (
      `quantile_count` - 1
    ) * (
      CASE
        WHEN 0.5 - 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) < 0
        THEN 0
        WHEN 0.5 - 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) > 1
        THEN 1
        ELSE 0.5 - 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64))
      END
    ) - FLOOR(
      (
        `quantile_count` - 1
      ) * (
        CASE
          WHEN 0.5 - 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) < 0
          THEN 0
          WHEN 0.5 - 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) > 1
          THEN 1
          ELSE 0.5 - 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64))
        END
      )
    ) AS `quantile_weight_1`,
    FLOOR(
      (
        `quantile_count` - 1
      ) * (
        CASE
          WHEN 0.5 + 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) < 0
          THEN 0
          WHEN 0.5 + 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) > 1
          THEN 1
          ELSE 0.5 + 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64))
        END
      )
    ) + 1 AS `quantile_below_2`,
    (
      `quantile_count` - 1
    ) * (
      CASE
        WHEN 0.5 + 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) < 0
        THEN 0
        WHEN 0.5 + 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) > 1
        THEN 1
        ELSE 0.5 + 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64))
      END
    ) - FLOOR(
      (
        `quantile_count` - 1
      ) * (
        CASE
          WHEN 0.5 + 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) < 0
          THEN 0
          WHEN 0.5 + 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64)) > 1
          THEN 1
          ELSE 0.5 + 1.959963984540054 * SQRT(0.25 / CAST(`quantile_count` AS FLOAT64))
        END
      )
    ) AS `quantile_weight_2`
  FROM `quantile_ranks_overall_0`
), `quantile_overall_0` AS (
  SELECT
    `variant_id` AS `quantile_overall_0_variant_id`,
    `excluded` AS `quantile_overall_0_excluded`,
    MAX(`quantile_count`) AS `quantile_overall_0_n`,
    SUM(
      CASE
        WHEN `quantile_rank` = `quantile_below_0`
        THEN `quantile_value` * (
          1 - `quantile_weight_0`
        )
        WHEN `quantile_rank` = `quantile_below_0` + 1
        THEN `quantile_value` * `quantile_weight_0`
      END
    ) AS `quantile_overall_0_hat`,
    SUM(
      CASE
        WHEN `quantile_rank` = `quantile_below_1`
        THEN `quantile_value` * (
          1 - `quantile_weight_1`
        )
        WHEN `quantile_rank` = `quantile_below_1` + 1
        THEN `quantile_value` * `quantile_weight_1`
      END
    ) AS `quantile_overall_0_lower`,
    SUM(
      CASE
        WHEN `quantile_rank` = `quantile_below_2`
        THEN `quantile_value` * (
          1 - `quantile_weight_2`
        )
        WHEN `quantile_rank` = `quantile_below_2` + 1
        THEN `quantile_value` * `quantile_weight_2`
      END
    ) AS `quantile_overall_0_upper`
  FROM `quantile_positions_overall_0`
  GROUP BY
    `variant_id`,
    `excluded`
), `quantile_events_1` AS (
  SELECT
    `quantile_unit`.`variant_id` AS `variant_id`,
    `quantile_unit`.`excluded` AS `excluded`,
    `quantile_unit`.`segment_0` AS `segment_0`,
    `quantile_unit`.`unit_id` AS `unit_id`,
    `quantile_event`.`event_value` AS `quantile_value`
  FROM `experiment_events` AS `quantile_event`
  JOIN `unit_metrics` AS `quantile_unit`
    ON `quantile_event`.`variant_id` = `quantile_unit`.`variant_id`
    AND `quantile_event`.`excluded` = `quantile_unit`.`excluded`
    AND `quantile_event`.`unit_id` = `quantile_unit`.`unit_id`
  WHERE
    (
      `quantile_event`.`term_goal_1`
      AND `quantile_event`.`term_filter_0`
      AND `quantile_event`.`term_filter_1`
    )
    AND `quantile_unit`.`excluded` = 0
), `quantile_ranks_1` AS (
  SELECT
    `variant_id`,
    `excluded`,
    `segment_0`,
    `quantile_value`,
    ROW_NUMBER() OVER (PARTITION BY `variant_id`, `excluded`, `segment_0` ORDER BY `quantile_value`) AS `quantile_rank`,
    COUNT(*) OVER (PARTITION BY `variant_id`, `excluded`, `segment_0`) AS `quantile_count`
  FROM `quantile_events_1`
), `quantile_positions_1` AS (
  SELECT
    *,
    FLOOR((
      `quantile_count` - 1
    ) * (
      0.9
    )) + 1 AS `quantile_below_0`,
    (
      `quantile_count` - 1
    ) * (
      0.9
    ) - FLOOR((
      `quantile_count` - 1
    ) * (
      0.9
    )) AS `quantile_weight_0`,
    FLOOR(
      (
        `quantile_count` - 1
      ) * (
        CASE
          WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) < 0
          THEN 0
          WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) > 1
          THEN 1
          ELSE 0.9 - 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64))
        END
      )
    ) + 1 AS `quantile_below_1`,
    (
      `quantile_count` - 1
    ) * (
      CASE
        WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) < 0
        THEN 0
        WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) > 1
        THEN 1
        ELSE 0.9 - 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64))
      END
    ) - FLOOR(
      (
        `quantile_count` - 1
      ) * (
        CASE
          WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) < 0
          THEN 0
          WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) > 1
          THEN 1
          ELSE 0.9 - 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64))
        END
      )
    ) AS `quantile_weight_1`,
    FLOOR(
      (
        `quantile_count` - 1
      ) * (
        CASE
          WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) < 0
          THEN 0
          WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) > 1
          THEN 1
          ELSE 0.9 + 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64))
        END
      )
    ) + 1 AS `quantile_below_2`,
    (
      `quantile_count` - 1
    ) * (
      CASE
        WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) < 0
        THEN 0
        WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) > 1
        THEN 1
        ELSE 0.9 + 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64))
      END
    ) - FLOOR(
      (
        `quantile_count` - 1
      ) * (
        CASE
          WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) < 0
          THEN 0
          WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) > 1
          THEN 1
          ELSE 0.9 + 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64))
        END
      )
    ) AS `quantile_weight_2`
  FROM `quantile_ranks_1`
), `quantile_1` AS (
  SELECT
    `variant_id` AS `quantile_1_variant_id`,
    `excluded` AS `quantile_1_excluded`,
    `segment_0` AS `quantile_1_segment_0`,
    MAX(`quantile_count`) AS `quantile_1_n`,
    SUM(
      CASE
        WHEN `quantile_rank` = `quantile_below_0`
        THEN `quantile_value` * (
          1 - `quantile_weight_0`
        )
        WHEN `quantile_rank` = `quantile_below_0` + 1
        THEN `quantile_value` * `quantile_weight_0`
      END
    ) AS `quantile_1_hat`,
    SUM(
      CASE
        WHEN `quantile_rank` = `quantile_below_1`
        THEN `quantile_value` * (
          1 - `quantile_weight_1`
        )
        WHEN `quantile_rank` = `quantile_below_1` + 1
        THEN `quantile_value` * `quantile_weight_1`
      END
    ) AS `quantile_1_lower`,
    SUM(
      CASE
        WHEN `quantile_rank` = `quantile_below_2`
        THEN `quantile_value` * (
          1 - `quantile_weight_2`
        )
        WHEN `quantile_rank` = `quantile_below_2` + 1
        THEN `quantile_value` * `quantile_weight_2`
      END
    ) AS `quantile_1_upper`
  FROM `quantile_positions_1`
  GROUP BY
    `variant_id`,
    `excluded`,
    `segment_0`
), `quantile_units_1` AS (
  SELECT
    `quantile_events_1`.`variant_id` AS `variant_id`,
    `quantile_events_1`.`excluded` AS `excluded`,
    `quantile_events_1`.`segment_0` AS `segment_0`,
    SUM(
      CASE
        WHEN `quantile_events_1`.`quantile_value` <= `quantile_1`.`quantile_1_hat`
        THEN 1
        ELSE 0
      END
    ) AS `quantile_a`,
    COUNT(*) AS `quantile_b`
  FROM `quantile_events_1`
  JOIN `quantile_1`
    ON `quantile_events_1`.`variant_id` = `quantile_1`.`quantile_1_variant_id`
    AND `quantile_events_1`.`excluded` = `quantile_1`.`quantile_1_excluded`
    AND (
      `quantile_events_1`.`segment_0` = `quantile_1`.`quantile_1_segment_0`
      OR (
        `quantile_events_1`.`segment_0` IS NULL
        AND `quantile_1`.`quantile_1_segment_0` IS NULL
      )
    )
  GROUP BY
    `quantile_events_1`.`variant_id`,
    `quantile_events_1`.`excluded`,
    `quantile_events_1`.`segment_0`,
    `quantile_events_1`.`unit_id`
), `quantile_clusters_1` AS (
  SELECT
    `variant_id` AS `quantile_clusters_1_variant_id`,
    `excluded` AS `quantile_clusters_1_excluded`,
    `segment_0` AS `quantile_clusters_1_segment_0`,
    SUM(`quantile_a`) AS `quantile_clusters_1_sum_a`,
    SUM(`quantile_a` * `quantile_a`) AS `quantile_clusters_1_sum_a2`,
    SUM(`quantile_b`) AS `quantile_clusters_1_sum_b`,
    SUM(`quantile_b` * `quantile_b`) AS `quantile_clusters_1_sum_b2`,
    SUM(`quantile_a` * `quantile_b`) AS `quantile_clusters_1_sum_ab`,
    COUNT(*) AS `quantile_clusters_1_units`
  FROM `quantile_units_1`
  GROUP BY
    `variant_id`,
    `excluded`,
    `segment_0`
), `quantile_ranks_overall_1` AS (
  SELECT
    `variant_id`,
    `excluded`,
    `quantile_value`,
    ROW_NUMBER() OVER (PARTITION BY `variant_id`, `excluded` ORDER BY `quantile_value`) AS `quantile_rank`,
    COUNT(*) OVER (PARTITION BY `variant_id`, `excluded`) AS `quantile_count`
  FROM `quantile_events_1`
), `quantile_positions_overall_1` AS (
  SELECT
    *,
    FLOOR((
      `quantile_count` - 1
    ) * (
      0.9
    )) + 1 AS `quantile_below_0`,
    (
      `quantile_count` - 1
    ) * (
      0.9
    ) - FLOOR((
      `quantile_count` - 1
    ) * (
      0.9
    )) AS `quantile_weight_0`,
    FLOOR(
      (
        `quantile_count` - 1
      ) * (
        CASE
          WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) < 0
          THEN 0
          WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) > 1
          THEN 1
          ELSE 0.9 - 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64))
        END
      )
    ) + 1 AS `quantile_below_1`,
    (
      `quantile_count` - 1
    ) * (
      CASE
        WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) < 0
        THEN 0
        WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) > 1
        THEN 1
        ELSE 0.9 - 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64))
      END
    ) - FLOOR(
      (
        `quantile_count` - 1
      ) * (
        CASE
          WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) < 0
          THEN 0
          WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) > 1
          THEN 1
          ELSE 0.9 - 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64))
        END
      )
    ) AS `quantile_weight_1`,
    FLOOR(
      (
        `quantile_count` - 1
      ) * (
        CASE
          WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) < 0
          THEN 0
          WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) > 1
          THEN 1
          ELSE 0.9 + 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64))
        END
      )
    ) + 1 AS `quantile_below_2`,
    (
      `quantile_count` - 1
    ) * (
      CASE
        WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) < 0
        THEN 0
        WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) > 1
        THEN 1
        ELSE 0.9 + 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64))
      END
    ) - FLOOR(
      (
        `quantile_count` - 1
      ) * (
        CASE
          WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) < 0
          THEN 0
          WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64)) > 1
          THEN 1
          ELSE 0.9 + 1.959963984540054 * SQRT(0.09 / CAST(`quantile_count` AS FLOAT64))
        END
      )
    ) AS `quantile_weight_2`
  FROM `quantile_ranks_overall_1`
), `quantile_overall_1` AS (
  SELECT
    `variant_id` AS `quantile_overall_1_variant_id`,
    `excluded` AS `quantile_overall_1_excluded`,
    MAX(`quantile_count`) AS `quantile_overall_1_n`,
    SUM(
      CASE
        WHEN `quantile_rank` = `quantile_below_0`
        THEN `quantile_value` * (
          1 - `quantile_weight_0`
        )
        WHEN `quantile_rank` = `quantile_below_0` + 1
        THEN `quantile_value` * `quantile_weight_0`
      END
    ) AS `quantile_overall_1_hat`,
    SUM(
      CASE
        WHEN `quantile_rank` = `quantile_below_1`
        THEN `quantile_value` * (
          1 - `quantile_weight_1`
        )
        WHEN `quantile_rank` = `quantile_below_1` + 1
        THEN `quantile_value` * `quantile_weight_1`
      END
    ) AS `quantile_overall_1_lower`,
    SUM(
      CASE
        WHEN `quantile_rank` = `quantile_below_2`
        THEN `quantile_value` * (
          1 - `quantile_weight_2`
        )
        WHEN `quantile_rank` = `quantile_below_2` + 1
        THEN `quantile_value` * `quantile_weight_2`
      END
    ) AS `quantile_overall_1_upper`
  FROM `quantile_positions_overall_1`
  GROUP BY
    `variant_id`,
    `excluded`
), `quantile_units_overall_1` AS (
  SELECT
    `quantile_events_1`.`variant_id` AS `variant_id`,
    `quantile_events_1`.`excluded` AS `excluded`,
    SUM(
      CASE
        WHEN `quantile_events_1`.`quantile_value` <= `quantile_overall_1`.`quantile_overall_1_hat`
        THEN 1
        ELSE 0
      END
    ) AS `quantile_a`,
    COUNT(*) AS `quantile_b`
  FROM `quantile_events_1`
  JOIN `quantile_overall_1`
    ON `quantile_events_1`.`variant_id` = `quantile_overall_1`.`quantile_overall_1_variant_id`
    AND `quantile_events_1`.`excluded` = `quantile_overall_1`.`quantile_overall_1_excluded`
  GROUP BY
    `quantile_events_1`.`variant_id`,
    `quantile_events_1`.`excluded`,
    `quantile_events_1`.`unit_id`
), `quantile_clusters_overall_1` AS (
  SELECT
    `variant_id` AS `quantile_clusters_overall_1_variant_id`,
    `excluded` AS `quantile_clusters_overall_1_excluded`,
    SUM(`quantile_a`) AS `quantile_clusters_overall_1_sum_a`,
    SUM(`quantile_a` * `quantile_a`) AS `quantile_clusters_overall_1_sum_a2`,
    SUM(`quantile_b`) AS `quantile_clusters_overall_1_sum_b`,
    SUM(`quantile_b` * `quantile_b`) AS `quantile_clusters_overall_1_sum_b2`,
    SUM(`quantile_a` * `quantile_b`) AS `quantile_clusters_overall_1_sum_ab`,
    COUNT(*) AS `quantile_clusters_overall_1_units`
  FROM `quantile_units_overall_1`
  GROUP BY
    `variant_id`,
    `excluded`
), `quantile_sums` AS (
  SELECT
    `variant_sums`.*,
    `quantile_0`.`quantile_0_n` AS `quantile_0_n`,
    `quantile_0`.`quantile_0_hat` AS `quantile_0_hat`,
    `quantile_0`.`quantile_0_lower` AS `quantile_0_lower`,
    `quantile_0`.`quantile_0_upper` AS `quantile_0_upper`,
    `quantile_1`.`quantile_1_n` AS `quantile_1_n`,
    `quantile_1`.`quantile_1_hat` AS `quantile_1_hat`,
    `quantile_1`.`quantile_1_lower` AS `quantile_1_lower`,
    `quantile_1`.`quantile_1_upper` AS `quantile_1_upper`,
    `quantile_clusters_1`.`quantile_clusters_1_sum_a` AS `quantile_clusters_1_sum_a`,
    `quantile_clusters_1`.`quantile_clusters_1_sum_a2` AS `quantile_clusters_1_sum_a2`,
    `quantile_clusters_1`.`quantile_clusters_1_sum_b` AS `quantile_clusters_1_sum_b`,
    `quantile_clusters_1`.`quantile_clusters_1_sum_b2` AS `quantile_clusters_1_sum_b2`,
    `quantile_clusters_1`.`quantile_clusters_1_sum_ab` AS `quantile_clusters_1_sum_ab`,
    `quantile_clusters_1`.`quantile_clusters_1_units` AS `quantile_clusters_1_units`
  FROM `variant_sums`
  LEFT JOIN `quantile_0`
    ON `variant_sums`.`variant_id` = `quantile_0`.`quantile_0_variant_id`
    AND `variant_sums`.`excluded` = `quantile_0`.`quantile_0_excluded`
    AND (
      `variant_sums`.`segment_0` = `quantile_0`.`quantile_0_segment_0`
      OR (
        `variant_sums`.`segment_0` IS NULL
        AND `quantile_0`.`quantile_0_segment_0` IS NULL
      )
    )
  LEFT JOIN `quantile_1`
    ON `variant_sums`.`variant_id` = `quantile_1`.`quantile_1_variant_id`
    AND `variant_sums`.`excluded` = `quantile_1`.`quantile_1_excluded`
    AND (
      `variant_sums`.`segment_0` = `quantile_1`.`quantile_1_segment_0`
      OR (
        `variant_sums`.`segment_0` IS NULL
        AND `quantile_1`.`quantile_1_segment_0` IS NULL
      )
    )
  LEFT JOIN `quantile_clusters_1`
    ON `variant_sums`.`variant_id` = `quantile_clusters_1`.`quantile_clusters_1_variant_id`
    AND `variant_sums`.`excluded` = `quantile_clusters_1`.`quantile_clusters_1_excluded`
    AND (
      `variant_sums`.`segment_0` = `quantile_clusters_1`.`quantile_clusters_1_segment_0`
      OR (
        `variant_sums`.`segment_0` IS NULL
        AND `quantile_clusters_1`.`quantile_clusters_1_segment_0` IS NULL
      )
    )
)
SELECT
  'exp-1' AS `exp_id`,
  CASE WHEN `excluded` = 1 THEN '@multiple:' || `variant_id` ELSE `variant_id` END AS `exp_variant_id`,
  `metric_id` AS `metric_id`,
  `segment_0` AS `platform`,
  `n` AS `n`,
  CASE `row_index`
    WHEN 0
    THEN `sum_0`
    WHEN 1
    THEN `sum_0`
    WHEN 2
    THEN `sum_3`
    WHEN 3
    THEN `sum_5`
  END AS `sum_x`,
  CASE `row_index`
    WHEN 0
    THEN `sum_0_0`
    WHEN 1
    THEN `sum_0_0`
    WHEN 2
    THEN `sum_3_3`
    WHEN 3
    THEN `sum_5_5`
  END AS `sum_x2`,
  CASE `row_index`
    WHEN 0
    THEN `sum_1`
    WHEN 1
    THEN `sum_2`
    WHEN 2
    THEN `sum_4`
    WHEN 3
    THEN `sum_5`
  END AS `sum_y`,
  CASE `row_index`
    WHEN 0
    THEN `sum_1_1`
    WHEN 1
    THEN `sum_2_2`
    WHEN 2
    THEN `sum_4_4`
    WHEN 3
    THEN `sum_5_5`
  END AS `sum_y2`,
  CASE `row_index`
    WHEN 0
    THEN `sum_0_1`
    WHEN 1
    THEN `sum_0_2`
    WHEN 2
    THEN `sum_3_4`
    WHEN 3
    THEN `sum_5_5`
  END AS `sum_xy`,
  CASE `row_index` WHEN 1 THEN `quantile_0_n` WHEN 2 THEN `quantile_1_n` END AS `quantile_n`,
  CASE `row_index` WHEN 1 THEN `quantile_0_hat` WHEN 2 THEN `quantile_1_hat` END AS `quantile_hat`,
  CASE `row_index` WHEN 1 THEN `quantile_0_lower` WHEN 2 THEN `quantile_1_lower` END AS `quantile_lower`,
  CASE `row_index` WHEN 1 THEN `quantile_0_upper` WHEN 2 THEN `quantile_1_upper` END AS `quantile_upper`,
  CASE `row_index` WHEN 2 THEN `quantile_clusters_1_sum_a` END AS `quantile_sum_a`,
  CASE `row_index` WHEN 2 THEN `quantile_clusters_1_sum_a2` END AS `quantile_sum_a2`,
  CASE `row_index` WHEN 2 THEN `quantile_clusters_1_sum_b` END AS `quantile_sum_b`,
  CASE `row_index` WHEN 2 THEN `quantile_clusters_1_sum_b2` END AS `quantile_sum_b2`,
  CASE `row_index` WHEN 2 THEN `quantile_clusters_1_sum_ab` END AS `quantile_sum_ab`,
  CASE `row_index` WHEN 2 THEN `quantile_clusters_1_units` END AS `quantile_units`
FROM `quantile_sums`
CROSS JOIN UNNEST([
  STRUCT(0 AS `row_index`, '1' AS `metric_id`),
  STRUCT(1 AS `row_index`, '2' AS `metric_id`),
  STRUCT(2 AS `row_index`, '3' AS `metric_id`),
  STRUCT(3 AS `row_index`, '@exposure' AS `metric_id`)
]) AS `metric_rows`
UNION ALL
SELECT
  'exp-1' AS `exp_id`,
  CASE
    WHEN `quantile_overall_0`.`quantile_overall_0_excluded` = 1
    THEN '@multiple:' || `quantile_overall_0`.`quantile_overall_0_variant_id`
    ELSE `quantile_overall_0`.`quantile_overall_0_variant_id`
  END AS `exp_variant_id`,
  '@overall:2' AS `metric_id`,
  NULL AS `platform`,
  0 AS `n`,
  CAST(0 AS FLOAT64) AS `sum_x`,
  CAST(0 AS FLOAT64) AS `sum_x2`,
  CAST(0 AS FLOAT64) AS `sum_y`,
  CAST(0 AS FLOAT64) AS `sum_y2`,
  CAST(0 AS FLOAT64) AS `sum_xy`,
  `quantile_overall_0`.`quantile_overall_0_n` AS `quantile_n`,
  `quantile_overall_0`.`quantile_overall_0_hat` AS `quantile_hat`,
  `quantile_overall_0`.`quantile_overall_0_lower` AS `quantile_lower`,
  `quantile_overall_0`.`quantile_overall_0_upper` AS `quantile_upper`,
  CAST(NULL AS FLOAT64) AS `quantile_sum_a`,
  CAST(NULL AS FLOAT64) AS `quantile_sum_a2`,
  CAST(NULL AS FLOAT64) AS `quantile_sum_b`,
  CAST(NULL AS FLOAT64) AS `quantile_sum_b2`,
  CAST(NULL AS FLOAT64) AS `quantile_sum_ab`,
  CAST(NULL AS FLOAT64) AS `quantile_units`
FROM `quantile_overall_0`
UNION ALL
SELECT
  'exp-1' AS `exp_id`,
  CASE
    WHEN `quantile_overall_1`.`quantile_overall_1_excluded` = 1
    THEN '@multiple:' || `quantile_overall_1`.`quantile_overall_1_variant_id`
    ELSE `quantile_overall_1`.`quantile_overall_1_variant_id`
  END AS `exp_variant_id`,
  '@overall:3' AS `metric_id`,
  NULL AS `platform`,
  0 AS `n`,
  CAST(0 AS FLOAT64) AS `sum_x`,
  CAST(0 AS FLOAT64) AS `sum_x2`,
  CAST(0 AS FLOAT64) AS `sum_y`,
  CAST(0 AS FLOAT64) AS `sum_y2`,
  CAST(0 AS FLOAT64) AS `sum_xy`,
  `quantile_overall_1`.`quantile_overall_1_n` AS `quantile_n`,
  `quantile_overall_1`.`quantile_overall_1_hat` AS `quantile_hat`,
  `quantile_overall_1`.`quantile_overall_1_lower` AS `quantile_lower`,
  `quantile_overall_1`.`quantile_overall_1_upper` AS `quantile_upper`,
  `quantile_clusters_overall_1`.`quantile_clusters_overall_1_sum_a` AS `quantile_sum_a`,
  `quantile_clusters_overall_1`.`quantile_clusters_overall_1_sum_a2` AS `quantile_sum_a2`,
  `quantile_clusters_overall_1`.`quantile_clusters_overall_1_sum_b` AS `quantile_sum_b`,
  `quantile_clusters_overall_1`.`quantile_clusters_overall_1_sum_b2` AS `quantile_sum_b2`,
  `quantile_clusters_overall_1`.`quantile_clusters_overall_1_sum_ab` AS `quantile_sum_ab`,
  `quantile_clusters_overall_1`.`quantile_clusters_overall_1_units` AS `quantile_units`
FROM `quantile_overall_1`
LEFT JOIN `quantile_clusters_overall_1`
  ON `quantile_overall_1`.`quantile_overall_1_variant_id` = `quantile_clusters_overall_1`.`quantile_clusters_overall_1_variant_id`
  AND `quantile_overall_1`.`quantile_overall_1_excluded` = `quantile_clusters_overall_1`.`quantile_clusters_overall_1_excluded`
