WITH `experiment_events` AS (
  SELECT
    `events`.`exp_variant_id` AS `variant_id`,
    `events`.`unit_id` AS `unit_id`,
    `events`.`cnt` AS `event_cnt`,
    `events`.`value` AS `event_value`,
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
    END AS `term_index`
  FROM `events` AS `events`
  WHERE
    `events`.`exp_id` = 'exp-1'
    AND `events`.`unit_type` = 'user'
    AND `events`.`agg_type` IN ('global', 'unit')
    AND `events`.`goal` IN ('exposure', 'click', 'conversion')
    AND (
      (
        `events`.`unit_type` = 'user' AND `events`.`goal` = 'exposure'
      )
      OR `events`.`product` IN ('p_1', 'p_2')
    )
    AND (
      `events`.`goal` <> 'click' OR `events`.`price` IN (1, 2, 3)
    )
), `unit_terms` AS (
  SELECT
    `variant_id`,
    `term_index`,
    `unit_id`,
    COALESCE(SUM(`event_cnt`), 0) AS `unit_count`,
    COALESCE(SUM(`event_value`), 0) AS `unit_value`
  FROM `experiment_events`
  WHERE
    NOT `term_index` IS NULL
  GROUP BY
    `variant_id`,
    `term_index`,
    `unit_id`
)
SELECT
  'exp-1' AS `exp_id`,
  `variant_id` AS `exp_variant_id`,
  'user' AS `unit_type`,
  CASE `term_index` WHEN 0 THEN 'global' WHEN 1 THEN 'unit' WHEN 2 THEN 'unit' END AS `agg_type`,
  CASE `term_index`
    WHEN 0
    THEN 'exposure'
    WHEN 1
    THEN 'click'
    WHEN 2
    THEN 'conversion'
  END AS `goal`,
  SUM(`unit_count`) AS `count`,
  SUM(CAST(`unit_count` AS DOUBLE) * CAST(`unit_count` AS DOUBLE)) AS `sum_sqr_count`,
  SUM(`unit_value`) AS `sum_value`,
  SUM(CAST(`unit_value` AS DOUBLE) * CAST(`unit_value` AS DOUBLE)) AS `sum_sqr_value`,
  SUM(CASE WHEN `unit_count` > 0 THEN 1 ELSE 0 END) AS `count_unique`
FROM `unit_terms`
GROUP BY
  `variant_id`,
  `term_index`
