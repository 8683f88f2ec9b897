use super::*;

fn pts(v: &[(f64, f64)]) -> Vec<(f64, f64)> {
    v.to_vec()
}

#[test]
fn a_sample_missing_splits_the_line_in_two() {
    let p = pts(&[
        (0.0, 1.0),
        (15.0, 2.0),
        (30.0, 3.0),
        (60.0, 4.0),
        (75.0, 5.0),
    ]);
    assert_eq!(runs(&p, 15.0), vec![0..3, 3..5]);
    // Within 1.5 steps is the same line.
    let p = pts(&[(0.0, 1.0), (22.0, 2.0), (44.0, 3.0)]);
    assert_eq!(runs(&p, 15.0), vec![0..3]);
    assert!(runs(&[], 15.0).is_empty());
}

#[test]
fn nan_and_infinite_values_are_missing_not_zero() {
    let p = pts(&[
        (0.0, 1.0),
        (15.0, f64::NAN),
        (30.0, 3.0),
        (45.0, 4.0),
        (60.0, f64::INFINITY),
        (75.0, f64::NEG_INFINITY),
        (90.0, 7.0),
    ]);
    assert_eq!(runs(&p, 15.0), vec![0..1, 2..4, 6..7]);
    let s = stats(&p).unwrap();
    assert_eq!((s.latest, s.min, s.max), (7.0, 1.0, 7.0));
    let last_nan = pts(&[(0.0, 2.0), (15.0, 5.0), (30.0, f64::NAN)]);
    assert_eq!(stats(&last_nan).unwrap().latest, 5.0);
    assert_eq!(stats(&pts(&[(0.0, f64::NAN)])), None);
}

#[test]
fn a_nan_cell_draws_nothing_where_zero_would_draw_a_dot() {
    let scale = y_scale(0.0, 10.0, Unit::None, 4);
    let mut with_nan = Raster::new(3, 4, true);
    for r in runs(&[(1.0, f64::NAN)], 1.0) {
        with_nan.line(&[(1.0, f64::NAN)][r], 0.0, 2.0, &scale, 0);
    }
    let mut zero = Raster::new(3, 4, true);
    zero.line(&[(1.0, 0.0)], 0.0, 2.0, &scale, 0);
    let bottom = zero.height - 1;
    assert_eq!(zero.cell(1, bottom), Some(('*', 0)));
    assert!((0..4).all(|row| (0..3).all(|col| with_nan.cell(col, row).is_none())));
}

#[test]
fn the_top_series_by_latest_value_are_drawn_and_the_rest_counted() {
    let s = |latest: f64| {
        Some(Stats {
            latest,
            min: 0.0,
            max: latest,
        })
    };
    let all = vec![s(3.0), None, s(9.0), s(1.0), s(5.0)];
    assert_eq!(top(&all, 3), (vec![2, 4, 0], 2));
    assert_eq!(top(&all, 8), (vec![2, 4, 0, 3, 1], 0));
    assert_eq!(top(&[], 8), (vec![], 0));
}

#[test]
fn the_scale_starts_at_zero_for_non_negative_data_and_leaves_headroom() {
    let s = y_scale(3.0, 97.0, Unit::Percent, 12);
    assert_eq!(s.lo, 0.0);
    assert!(s.hi > 97.0 * 1.04, "{s:?}");
    assert_eq!(s.ticks.first(), Some(&0.0));
    assert_eq!(s.ticks.last(), Some(&s.hi));
    // Round steps: every tick a multiple of the first interval.
    let step = s.ticks[1] - s.ticks[0];
    assert!([10.0, 20.0, 50.0].contains(&step), "{step}");

    let neg = y_scale(-4.0, 6.0, Unit::None, 12);
    assert!(neg.lo < -4.0 && neg.hi > 6.0, "{neg:?}");

    let flat = y_scale(0.0, 0.0, Unit::None, 12);
    assert!(flat.hi > flat.lo);
    let empty = y_scale(f64::INFINITY, f64::NEG_INFINITY, Unit::None, 12);
    assert_eq!((empty.lo, empty.hi > 0.0), (0.0, true));
}

#[test]
fn byte_scales_step_in_powers_of_1024() {
    const MIB: f64 = 1024.0 * 1024.0;
    let s = y_scale(0.0, 9.0 * MIB, Unit::Bytes, 12);
    let step = s.ticks[1] - s.ticks[0];
    assert_eq!(step, 5.0 * MIB, "{s:?}");
}

#[test]
fn time_ticks_fall_on_round_local_times_and_fit_the_width() {
    let start = 1_714_564_800.0 - 6.0 * 3600.0 + 17.0;
    let end = 1_714_564_800.0 + 17.0;
    // UTC+2: ticks on whole local hours.
    let t = time_ticks(start, end, 60, 5, 7200);
    assert!(!t.is_empty());
    assert!(t.len() as f64 * 8.0 <= 60.0, "{t:?}");
    for x in &t {
        assert!((start..=end).contains(x));
        assert_eq!((*x as i64 + 7200) % 3600, 0, "{x}");
    }
    // A wider plot gets more, closer ticks.
    assert!(time_ticks(start, end, 200, 5, 7200).len() > t.len());
    // A 30-minute offset (India) moves the ticks with it.
    let t = time_ticks(start, end, 60, 5, 19_800);
    assert!(t.iter().all(|x| (*x as i64 + 19_800) % 3600 == 0));
}

#[test]
fn time_labels_name_the_day_beyond_a_day() {
    assert_eq!(time_format(0.0, 86_400.0), "%H:%M");
    assert_eq!(time_format(0.0, 7.0 * 86_400.0), "%a %H:%M");
}

#[test]
fn marker_columns_follow_time() {
    // 61 braille columns of 2 dots: 122 dots, 0..=121.
    assert_eq!(column(0.0, 0.0, 600.0, 61, false), Some(0));
    assert_eq!(column(600.0, 0.0, 600.0, 61, false), Some(60));
    assert_eq!(column(300.0, 0.0, 600.0, 61, false), Some(30));
    assert_eq!(column(300.0, 0.0, 600.0, 61, true), Some(30));
    assert_eq!(column(601.0, 0.0, 600.0, 61, false), None);
    assert_eq!(column(-1.0, 0.0, 600.0, 61, false), None);
}

#[test]
fn a_sample_lands_in_the_column_of_its_marker() {
    let scale = y_scale(0.0, 1.0, Unit::None, 8);
    for ascii in [false, true] {
        let mut r = Raster::new(50, 8, ascii);
        r.line(&[(137.0, 0.5)], 0.0, 600.0, &scale, 0);
        let col = column(137.0, 0.0, 600.0, 50, ascii).unwrap();
        assert!(
            (0..8).any(|row| r.cell(col, row).is_some()),
            "ascii {ascii}"
        );
    }
}

#[test]
fn braille_lines_join_samples_and_plain_mode_uses_no_braille() {
    let scale = y_scale(0.0, 10.0, Unit::None, 6);
    let p = pts(&[(0.0, 0.0), (50.0, 10.0), (100.0, 0.0), (150.0, 5.0)]);
    for ascii in [false, true] {
        let mut r = Raster::new(40, 6, ascii);
        r.line(&p, 0.0, 150.0, &scale, 3);
        let cells: Vec<(char, u8)> = (0..6)
            .flat_map(|row| (0..40).map(move |col| (col, row)))
            .filter_map(|(col, row)| r.cell(col, row))
            .collect();
        // A line, not dots: every column is touched.
        for col in 0..40 {
            assert!((0..6).any(|row| r.cell(col, row).is_some()), "column {col}");
        }
        assert!(cells.iter().all(|c| c.1 == 3));
        let braille = cells
            .iter()
            .any(|c| ('\u{2800}'..='\u{28ff}').contains(&c.0));
        assert_eq!(braille, !ascii);
        if ascii {
            assert!(cells.iter().all(|c| c.0.is_ascii()), "{cells:?}");
        }
    }
}

#[test]
fn separate_runs_leave_the_gap_empty() {
    let scale = y_scale(0.0, 1.0, Unit::None, 4);
    let p = pts(&[(0.0, 1.0), (10.0, 1.0), (40.0, 1.0), (50.0, 1.0)]);
    let mut r = Raster::new(51, 4, false);
    for run in runs(&p, 10.0) {
        r.line(&p[run], 0.0, 50.0, &scale, 0);
    }
    let lit = |col| (0..4).any(|row| r.cell(col, row).is_some());
    assert!(lit(0) && lit(10) && lit(40) && lit(50));
    assert!((12..40).all(|c| !lit(c)), "the gap is drawn");
}

#[test]
fn infinite_samples_are_counted_by_sign_and_nan_is_not_one() {
    let p = pts(&[
        (0.0, f64::INFINITY),
        (15.0, f64::NAN),
        (30.0, 3.0),
        (45.0, f64::INFINITY),
        (60.0, f64::NEG_INFINITY),
    ]);
    assert_eq!(Infinite::of(&p), Infinite { pos: 2, neg: 1 });
    let none = Infinite::of(&pts(&[(0.0, f64::NAN), (15.0, 1.0)]));
    assert_eq!(none, Infinite::default());
}
