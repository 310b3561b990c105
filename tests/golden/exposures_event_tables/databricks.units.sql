WITH `experiment_exposures` AS (
  SELECT
    CAST(`exposures`.`variant_id` AS STRING) AS `variant_id`,
    `exposures`.`unit_id` AS `unit_id`,
    `exposures`.`timestamp` AS `exposure_timestamp`
  FROM `experiments`.`exposures` AS `exposures`
  WHERE
    `exposures`.`exp_id` = 'exp-1'
    AND NOT `exposures`.`unit_id` IS NULL
    AND NOT `exposures`.`variant_id` IS NULL
    AND NOT `exposures`.`timestamp` IS NULL
    AND `exposures`.`timestamp` >= CAST('2024-03-01 00:00:00' AS TIMESTAMP)
    AND `exposures`.`timestamp` < CAST('2024-03-15 00:00:00' AS TIMESTAMP)
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
    CAST(NULL AS STRING) AS `platform`,
    CAST(NULL AS STRING) AS `product`
  FROM `experiment_exposures`
  JOIN `exposed_units`
    ON `experiment_exposures`.`unit_id` = `exposed_units`.`unit_id`
  UNION ALL
  SELECT
    `exposed_units`.`unit_variant` AS `variant_id`,
    `exposed_units`.`unit_id` AS `unit_id`,
    `events`.`action` AS `goal`,
    1 AS `cnt`,
    CAST(NULL AS DOUBLE) AS `value`,
    0 AS `excluded`,
    `events`.`platform` AS `platform`,
    CAST(NULL AS STRING) AS `product`
  FROM `analytics`.`page_events` AS `events`
  JOIN `exposed_units`
    ON `events`.`user_id` = `exposed_units`.`unit_id`
    AND NOT `exposed_units`.`unit_variant` IS NULL
  WHERE
    `events`.`action` IN ('click', 'view')
    AND `events`.`ts` >= `exposed_units`.`first_exposure`
    AND `events`.`ts` >= CAST('2024-03-01 00:00:00' AS TIMESTAMP)
    AND `events`.`ts` < CAST('2024-03-15 00:00:00' AS TIMESTAMP)
    AND `events`.`event_date` >= CAST('2024-03-01' AS DATE)
    AND `events`.`event_date` < CAST('2024-03-15' AS DATE)
  UNION ALL
  SELECT
    `exposed_units`.`unit_variant` AS `variant_id`,
    `exposed_units`.`unit_id` AS `unit_id`,
    'purchase' AS `goal`,
    1 AS `cnt`,
    `events`.`amount` AS `value`,
    0 AS `excluded`,
    CAST(NULL AS STRING) AS `platform`,
    `events`.`product` AS `product`
  FROM `shop`.`orders` AS `events`
  JOIN `exposed_units`
    ON CAST(`events`.`customer_id` AS STRING) = `exposed_units`.`unit_id`
    AND NOT `exposed_units`.`unit_variant` IS NULL
  WHERE
    `events`.`ordered_at` >= `exposed_units`.`first_exposure`
    AND `events`.`ordered_at` >= CAST('2024-03-01 00:00:00' AS TIMESTAMP)
    AND `events`.`ordered_at` < CAST('2024-03-15 00:00:00' AS TIMESTAMP)
), `experiment_events` AS (
  SELECT
    `events`.`variant_id` AS `variant_id`,
    `events`.`excluded` AS `excluded`,
    `events`.`unit_id` AS `unit_id`,
    `events`.`cnt` AS `event_cnt`,
    `events`.`value` AS `event_value`,
    CASE
      WHEN `events`.`goal` = 'exposure'
      THEN 0
      WHEN `events`.`goal` = 'click'
      THEN CASE WHEN `events`.`platform` = 'web' THEN 1 END
      WHEN `events`.`goal` = 'purchase'
      THEN CASE WHEN `events`.`product` = 'p_1' THEN 2 END
      WHEN `events`.`goal` = 'view'
      THEN 3
    END AS `term_index`
  FROM `attributed_events` AS `events`
  WHERE
    `events`.`goal` IN ('exposure', 'view')
    OR (
      `events`.`goal` = 'click' AND `events`.`platform` = 'web'
    )
    OR (
      `events`.`goal` = 'purchase' AND `events`.`product` = 'p_1'
    )
), `unit_terms` AS (
  SELECT
    `variant_id`,
    `excluded`,
    `term_index`,
    `unit_id`,
    COALESCE(SUM(`event_cnt`), 0) AS `unit_count`,
    COALESCE(SUM(`event_value`), 0) AS `unit_value`
  FROM `experiment_events`
  WHERE
    NOT `term_index` IS NULL
  GROUP BY
    `variant_id`,
    `excluded`,
    `term_index`,
    `unit_id`
)
SELECT
  'exp-1' AS `exp_id`,
  CASE WHEN `excluded` = 1 THEN '@multiple:' || `variant_id` ELSE `variant_id` END AS `exp_variant_id`,
  'user' AS `unit_type`,
  CASE `term_index`
    WHEN 0
    THEN 'global'
    WHEN 1
    THEN 'unit'
    WHEN 2
    THEN 'unit'
    WHEN 3
    THEN 'unit'
  END AS `agg_type`,
  CASE `term_index`
    WHEN 0
    THEN 'exposure'
    WHEN 1
    THEN 'click'
    WHEN 2
    THEN 'purchase'
    WHEN 3
    THEN 'view'
  END AS `goal`,
  `unit_id` AS `unit_id`,
  CASE `term_index` WHEN 0 THEN '' WHEN 1 THEN 'web' WHEN 2 THEN '' WHEN 3 THEN '' END AS `platform`,
  CASE `term_index` WHEN 0 THEN '' WHEN 1 THEN '' WHEN 2 THEN 'p_1' WHEN 3 THEN '' END AS `product`,
  `unit_count` AS `count`,
  `unit_value` AS `sum_value`
FROM `unit_terms`
