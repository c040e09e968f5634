//! The statistics module against reference implementations. Every expected number below
//! was computed with scipy 1.17.1, statsmodels 0.15.0 or pingouin 0.7.0 (Python 3.11,
//! numpy 2.4.6); the call that produced it is in the comment beside it. Imports used in
//! those calls:
//!
//! ```text
//! from scipy import stats
//! from statsmodels.stats.multitest import multipletests
//! from statsmodels.stats.proportion import (proportion_confint, proportions_ztest,
//!     confint_proportions_2indep, proportion_effectsize)
//! from statsmodels.stats.contingency_tables import Table2x2
//! import pingouin as pg
//! ```

use std::time::Instant;

use coco_insights::stats::{
    Estimate, MeanComparison, TwoByTwo, benjamini_hochberg, cohens_h, holm, mann_whitney,
    normal_cdf, two_proportion_p, welch_t_test, wilson_interval,
};

/// |actual − expected| within `rel` of |expected| (absolute `rel` when expected is 0).
#[track_caller]
fn close(actual: f64, expected: f64, rel: f64) {
    let scale = expected.abs().max(f64::MIN_POSITIVE);
    let ok = if expected == 0.0 {
        actual.abs() <= rel
    } else {
        (actual - expected).abs() <= rel * scale
    };
    assert!(ok, "got {actual:e}, expected {expected:e} (rel {rel:e})");
}

/// p-values: 1e-6 relative, as the brief asks.
const P: f64 = 1e-6;
/// Closed-form statistics (ratios, intervals, adjusted p): ten digits.
const EXACT: f64 = 1e-10;

fn table(a: u64, b: u64, c: u64, d: u64) -> TwoByTwo {
    TwoByTwo { a, b, c, d }
}

#[track_caller]
fn close_estimate(actual: Option<Estimate>, value: f64, low: f64, high: f64, rel: f64) {
    let e = actual.expect("estimate defined");
    close(e.value, value, rel);
    close(e.low, low, rel);
    close(e.high, high, rel);
}

// ---------------------------------------------------------------- normal, z-test

#[test]
fn normal_cdf_matches_scipy_including_the_tail() {
    let cases = [
        (-8.0, 6.220_960_574_271_74e-16), // stats.norm.cdf(-8.0)
        (-1.959_963_984_540_054, 0.025),  // stats.norm.cdf(-1.959963984540054)
        (-1.0, 0.158_655_253_931_457_07), // stats.norm.cdf(-1.0)
        (0.0, 0.5),                       // stats.norm.cdf(0.0)
        (0.5, 0.691_462_461_274_013_1),   // stats.norm.cdf(0.5)
        (3.0, 0.998_650_101_968_369_9),   // stats.norm.cdf(3.0)
    ];
    for (x, expected) in cases {
        // statrs 0.19.1's erf/erfc are good to ~1e-10 relative, not to an ulp: its
        // per-interval constants were transcribed with ten digits (statrs-dev/statrs
        // PR #412 restores them). So Φ is held to 1e-9 here, and every p-value built on
        // it stays well inside the 1e-6 the tests ask of p-values.
        close(normal_cdf(x), expected, 1e-9);
    }
}

#[test]
fn two_proportion_p_matches_statsmodels_pooled_z_test() {
    // proportions_ztest([10, 30], [100, 100]) -> p 0.00040695201744495973
    close(
        two_proportion_p(10, 100, 30, 100).unwrap(),
        4.069_520_174_449_597_3e-4,
        P,
    );
    // proportions_ztest([6, 2], [10, 10]) -> p 0.06788915486182903
    close(
        two_proportion_p(6, 10, 2, 10).unwrap(),
        0.067_889_154_861_829_03,
        P,
    );
    // proportions_ztest([20, 20], [100, 100]) -> p 1.0
    close(two_proportion_p(20, 100, 20, 100).unwrap(), 1.0, P);
    // proportions_ztest([1200, 900], [10000, 10000]) -> p 4.5194878522959934e-12
    close(
        two_proportion_p(1200, 10_000, 900, 10_000).unwrap(),
        4.519_487_852_295_993_4e-12,
        P,
    );
    // Undefined: an empty group, no variance (all or none), a count above its group.
    assert_eq!(two_proportion_p(0, 0, 1, 10), None);
    assert_eq!(two_proportion_p(1, 10, 0, 0), None);
    assert_eq!(two_proportion_p(0, 10, 0, 20), None);
    assert_eq!(two_proportion_p(10, 10, 20, 20), None);
    assert_eq!(two_proportion_p(11, 10, 2, 20), None);
}

// ---------------------------------------------------------------- Fisher

#[test]
fn fisher_exact_matches_scipy() {
    let cases = [
        // stats.fisher_exact([[3,1],[1,3]]).pvalue -> 0.48571428571428565 (tea tasting;
        // the mirror table has exactly the observed probability: needs R's tolerance)
        ((3, 1, 1, 3), 0.485_714_285_714_285_65),
        // stats.fisher_exact([[0,5],[6,2]]).pvalue -> 0.02097902097902098
        ((0, 5, 6, 2), 0.020_979_020_979_020_98),
        // stats.fisher_exact([[8,2],[1,5]]).pvalue -> 0.034965034965034975
        ((8, 2, 1, 5), 0.034_965_034_965_034_975),
        // stats.fisher_exact([[10,0],[0,10]]).pvalue -> 1.082508822446903e-05
        ((10, 0, 0, 10), 1.082_508_822_446_903e-5),
        // stats.fisher_exact([[0,10],[10,0]]).pvalue -> 1.082508822446903e-05
        ((0, 10, 10, 0), 1.082_508_822_446_903e-5),
        // stats.fisher_exact([[2,7],[8,2]]).pvalue -> 0.02301413756522116
        ((2, 7, 8, 2), 0.023_014_137_565_221_16),
        // stats.fisher_exact([[5,5],[5,5]]).pvalue -> 1.0
        ((5, 5, 5, 5), 1.0),
        // stats.fisher_exact([[1,0],[0,1]]).pvalue -> 1.0
        ((1, 0, 0, 1), 1.0),
        // stats.fisher_exact([[20,180],[40,160]]).pvalue -> 0.0074192372767549215
        ((20, 180, 40, 160), 0.007_419_237_276_754_921_5),
        // stats.fisher_exact([[0,0],[3,4]]).pvalue -> 1.0 (an empty row: one table)
        ((0, 0, 3, 4), 1.0),
    ];
    for ((a, b, c, d), expected) in cases {
        let p = table(a, b, c, d).fisher_exact().expect("defined");
        close(p, expected, P);
    }
}

#[test]
fn fisher_exact_is_fast_and_precise_on_large_tables() {
    let started = Instant::now();
    // stats.fisher_exact([[1200,8800],[900,9100]]).pvalue -> 4.945244234277835e-12
    close(
        table(1200, 8800, 900, 9100).fisher_exact().unwrap(),
        4.945_244_234_277_835e-12,
        P,
    );
    // n = 200,000: stats.fisher_exact([[10000,90000],[10500,89500]]).pvalue
    //   -> 0.0002341934148969048
    close(
        table(10_000, 90_000, 10_500, 89_500)
            .fisher_exact()
            .unwrap(),
        2.341_934_148_969_048e-4,
        P,
    );
    // Far beyond any real table: still answers (only the tables that count are visited).
    let huge = table(400_000_000, 600_000_000, 400_010_000, 599_990_000);
    assert!(
        huge.fisher_exact()
            .is_some_and(|p| (0.0..=1.0).contains(&p))
    );
    // Generous for an unoptimised test build; release takes milliseconds.
    assert!(
        started.elapsed().as_secs_f64() < 5.0,
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn fisher_exact_degenerate_inputs() {
    assert_eq!(table(0, 0, 0, 0).fisher_exact(), None);
    // Margins that overflow u64 are refused, not wrapped.
    assert_eq!(table(u64::MAX, 1, 0, 0).fisher_exact(), None);
}

// ---------------------------------------------------------------- chi-square

#[test]
fn chi_square_matches_scipy_with_and_without_yates() {
    // (table, yates, statistic, p) from
    // res = stats.chi2_contingency(t, correction=yates); res.statistic, res.pvalue
    let cases = [
        ((3, 1, 1, 3), false, 2.0, 0.157_299_207_050_281_05),
        ((3, 1, 1, 3), true, 0.5, 0.479_500_122_186_953_37),
        (
            (1200, 8800, 900, 9100),
            false,
            47.885_075_818_036_71,
            4.519_487_852_295_976e-12,
        ),
        (
            (1200, 8800, 900, 9100),
            true,
            47.566_374_035_647_78,
            5.317_276_869_052_339e-12,
        ),
        (
            (0, 5, 6, 2),
            false,
            6.964_285_714_285_713,
            0.008_315_262_070_353_142,
        ),
        (
            (0, 5, 6, 2),
            true,
            4.273_363_095_238_094_5,
            0.038_714_235_668_224_704,
        ),
        // |O − E| = 0.238 < 0.5: Yates stops at zero, p = 1.
        (
            (5, 5, 5, 6),
            false,
            0.043_388_429_752_066_124,
            0.834_995_594_211_045_9,
        ),
        ((5, 5, 5, 6), true, 0.0, 1.0),
        (
            (20, 180, 40, 160),
            false,
            7.843_137_254_901_961,
            0.005_101_399_646_004_978,
        ),
        (
            (20, 180, 40, 160),
            true,
            7.078_431_372_549_019,
            0.007_801_727_636_739_817,
        ),
        (
            (12, 5, 7, 9),
            false,
            2.430_575_519_681_557_5,
            0.118_989_205_532_145,
        ),
        (
            (12, 5, 7, 9),
            true,
            1.455_996_378_814_684,
            0.227_568_214_575_806_42,
        ),
    ];
    for ((a, b, c, d), yates, statistic, p) in cases {
        let (s, pv) = table(a, b, c, d).chi_square(yates).expect("defined");
        close(s, statistic, EXACT);
        close(pv, p, P);
    }
}

#[test]
fn chi_square_undefined_with_an_empty_margin() {
    // scipy raises "The internally computed table of expected frequencies has a zero
    // element" for these.
    assert_eq!(table(0, 0, 3, 4).chi_square(false), None);
    assert_eq!(table(0, 5, 0, 4).chi_square(true), None);
    assert_eq!(table(0, 0, 0, 0).chi_square(true), None);
}

// ---------------------------------------------------------------- OR, RR, RD

#[test]
fn odds_ratio_matches_statsmodels_table2x2() {
    // tb = Table2x2(np.array(t), shift_zeros=True); tb.oddsratio, tb.oddsratio_confint(0.05)
    // t = [[20,180],[40,160]] -> 0.4444444444444444 (0.24947660317717146, 0.7917811196797868)
    close_estimate(
        table(20, 180, 40, 160).odds_ratio(),
        0.444_444_444_444_444_4,
        0.249_476_603_177_171_46,
        0.791_781_119_679_786_8,
        EXACT,
    );
    // t = [[1200,8800],[900,9100]] -> 1.378787878787879 (1.2585319859291664, 1.5105345243083677)
    close_estimate(
        table(1200, 8800, 900, 9100).odds_ratio(),
        1.378_787_878_787_879,
        1.258_531_985_929_166_4,
        1.510_534_524_308_367_7,
        EXACT,
    );
    // t = [[12,5],[7,9]] -> 3.085714285714286 (0.7335296471377609, 12.980569620075649)
    close_estimate(
        table(12, 5, 7, 9).odds_ratio(),
        3.085_714_285_714_286,
        0.733_529_647_137_760_9,
        12.980_569_620_075_649,
        EXACT,
    );
    // A zero cell: 0.5 added to every cell (Haldane–Anscombe). statsmodels' shift_zeros
    // replaces only the zero cells by 0.5 (despite its docstring), so the reference
    // applies the correction itself:
    // tb = Table2x2(np.array(t, dtype=float) + 0.5, shift_zeros=False)
    // t = [[0,5],[6,2]] -> 0.03496503496503497 (0.0013669729115809047, 0.8943510582753497)
    close_estimate(
        table(0, 5, 6, 2).odds_ratio(),
        0.034_965_034_965_034_97,
        0.001_366_972_911_580_904_7,
        0.894_351_058_275_349_7,
        EXACT,
    );
    // t = [[7,0],[3,4]] -> 19.285714285714285 (0.7977454610744447, 466.23740736707896)
    close_estimate(
        table(7, 0, 3, 4).odds_ratio(),
        19.285_714_285_714_285,
        0.797_745_461_074_444_7,
        466.237_407_367_078_96,
        EXACT,
    );
    // An empty row or column: nothing to compare.
    assert_eq!(table(0, 0, 3, 4).odds_ratio(), None);
    assert_eq!(table(0, 5, 0, 4).odds_ratio(), None);
    assert_eq!(table(5, 0, 4, 0).odds_ratio(), None);
}

#[test]
fn risk_ratio_matches_statsmodels_table2x2() {
    // tb.riskratio, tb.riskratio_confint(0.05) with tb = Table2x2(np.array(t), shift_zeros=False)
    // t = [[20,180],[40,160]] -> 0.5 (0.3033579217484595, 0.8241090213140925)
    close_estimate(
        table(20, 180, 40, 160).risk_ratio(),
        0.5,
        0.303_357_921_748_459_5,
        0.824_109_021_314_092_5,
        EXACT,
    );
    // t = [[1200,8800],[900,9100]] -> 1.3333333333333333 (1.2285334545800708, 1.4470731514474269)
    close_estimate(
        table(1200, 8800, 900, 9100).risk_ratio(),
        1.333_333_333_333_333_3,
        1.228_533_454_580_070_8,
        1.447_073_151_447_426_9,
        EXACT,
    );
    // t = [[12,5],[7,9]] -> 1.6134453781512605 (0.8552798787092566, 3.0436890345255008)
    close_estimate(
        table(12, 5, 7, 9).risk_ratio(),
        1.613_445_378_151_260_5,
        0.855_279_878_709_256_6,
        3.043_689_034_525_500_8,
        EXACT,
    );
    // a = 0: all cells + 0.5 (see the odds ratio for why the reference adds it itself):
    // tb = Table2x2(np.array(t, dtype=float) + 0.5, shift_zeros=False)
    // t = [[0,5],[6,2]] -> 0.11538461538461538 (0.007875174239039858, 1.690579670155821)
    close_estimate(
        table(0, 5, 6, 2).risk_ratio(),
        0.115_384_615_384_615_38,
        0.007_875_174_239_039_858,
        1.690_579_670_155_821,
        EXACT,
    );
    // b = 0 leaves the ratio and its log defined: no correction.
    // t = [[7,0],[3,4]], shift_zeros=False -> 2.3333333333333335 (0.9919321701474924,
    // 5.488726556408489)
    close_estimate(
        table(7, 0, 3, 4).risk_ratio(),
        2.333_333_333_333_333_5,
        0.991_932_170_147_492_4,
        5.488_726_556_408_489,
        EXACT,
    );
    assert_eq!(table(0, 0, 3, 4).risk_ratio(), None);
    assert_eq!(table(3, 4, 0, 0).risk_ratio(), None);
    // No events at all: 0 / 0.
    assert_eq!(table(0, 5, 0, 4).risk_ratio(), None);
}

#[test]
fn risk_difference_matches_newcombe_and_statsmodels() {
    // Newcombe (1998), Stat Med 17:873, table II, method 10: 56/70 − 48/80 = 0.2,
    // 95% CI 0.0524 to 0.3339; to full precision:
    // confint_proportions_2indep(56, 70, 48, 80, method='newcomb', compare='diff')
    //   -> (0.05243147240236498, 0.33387265403690614)
    let rd = table(56, 14, 48, 32).risk_difference().unwrap();
    close(rd.value, 0.2, EXACT);
    assert!((rd.low - 0.0524).abs() < 5e-5 && (rd.high - 0.3339).abs() < 5e-5);
    close(rd.low, 0.052_431_472_402_364_98, EXACT);
    close(rd.high, 0.333_872_654_036_906_14, EXACT);
    // (x1, n1, x2, n2) -> confint_proportions_2indep(x1, n1, x2, n2, method='newcomb',
    // compare='diff'); value = x1/n1 − x2/n2
    let cases = [
        // Newcombe's 9/10 vs 3/10 (table II: 0.1705 to 0.8090).
        (
            (9, 10, 3, 10),
            0.6,
            0.170_522_723_934_502_9,
            0.809_017_973_535_488,
        ),
        (
            (0, 10, 0, 20),
            0.0,
            -0.161_125_158_052_819_4,
            0.277_532_799_862_889_26,
        ),
        ((10, 10, 0, 20), 1.0, 0.679_086_037_141_914_5, 1.0),
        (
            (1200, 10_000, 900, 10_000),
            0.03,
            0.021_514_748_454_588_91,
            0.038_496_129_333_447_97,
        ),
    ];
    for ((x1, n1, x2, n2), value, low, high) in cases {
        close_estimate(
            table(x1, n1 - x1, x2, n2 - x2).risk_difference(),
            value,
            low,
            high,
            EXACT,
        );
    }
    assert_eq!(table(0, 0, 3, 4).risk_difference(), None);
    assert_eq!(table(3, 4, 0, 0).risk_difference(), None);
}

#[test]
fn wilson_interval_matches_statsmodels() {
    // (x, n, confidence) -> proportion_confint(x, n, alpha=1-confidence, method='wilson')
    let cases = [
        (
            (56, 70, 0.95),
            0.691_833_555_037_469_5,
            0.876_952_607_516_370_5,
        ),
        ((0, 10, 0.95), 0.0, 0.277_532_799_862_889_2),
        (
            (10, 10, 0.95),
            0.722_467_200_137_110_7,
            0.999_999_999_999_999_9,
        ),
        ((1, 3, 0.9), 0.078_265_726_333_728_36, 0.746_466_131_718_776),
        (
            (1200, 10_000, 0.99),
            0.111_880_487_394_851_12,
            0.128_623_430_402_578_34,
        ),
        (
            (48, 80, 0.95),
            0.490_454_650_051_603_9,
            0.700_381_724_041_290_6,
        ),
    ];
    for ((x, n, confidence), low, high) in cases {
        let (l, h) = wilson_interval(x, n, confidence).expect("defined");
        close(l, low, EXACT);
        close(h, high, EXACT);
    }
    assert_eq!(wilson_interval(0, 0, 0.95), None);
    assert_eq!(wilson_interval(11, 10, 0.95), None);
    assert_eq!(wilson_interval(1, 10, 1.0), None);
    assert_eq!(wilson_interval(1, 10, 0.0), None);
    assert_eq!(wilson_interval(1, 10, f64::NAN), None);
}

// ---------------------------------------------------------------- multiple testing

#[test]
fn holm_and_bh_match_statsmodels_multipletests() {
    // (input, multipletests(ps, method='holm')[1], multipletests(ps, method='fdr_bh')[1])
    let cases: [(&[f64], &[f64], &[f64]); 4] = [
        (
            &[0.01, 0.04, 0.03, 0.005, 0.2],
            &[0.04, 0.09, 0.09, 0.025, 0.2],
            &[0.025, 0.05, 0.05, 0.025, 0.2],
        ),
        (
            // Ties: tied p-values get the same adjusted value.
            &[0.02, 0.02, 0.5, 0.001, 0.9, 0.04, 0.04],
            &[0.12, 0.12, 1.0, 0.007, 1.0, 0.16, 0.16],
            &[
                0.046_666_666_666_666_67,
                0.046_666_666_666_666_67,
                0.583_333_333_333_333_4,
                0.007,
                0.9,
                0.056,
                0.056,
            ],
        ),
        (&[0.6, 0.7, 0.9], &[1.0, 1.0, 1.0], &[0.9, 0.9, 0.9]),
        (&[0.0], &[0.0], &[0.0]),
    ];
    for (ps, holm_expected, bh_expected) in cases {
        for (got, want) in holm(ps).iter().zip(holm_expected) {
            close(*got, *want, EXACT);
        }
        for (got, want) in benjamini_hochberg(ps).iter().zip(bh_expected) {
            close(*got, *want, EXACT);
        }
    }
    assert!(holm(&[]).is_empty());
    assert!(benjamini_hochberg(&[]).is_empty());
}

#[test]
fn nan_p_values_stay_nan_and_are_not_counted() {
    // As R's p.adjust (NA kept, n = number of non-NA): the adjusted values are those of
    // the input without the NaN, i.e. multipletests([0.01, 0.04, 0.03, 0.005, 0.2], ...)
    // above.
    let ps = [0.01, f64::NAN, 0.04, 0.03, 0.005, f64::NAN, 0.2];
    let h = holm(&ps);
    let bh = benjamini_hochberg(&ps);
    assert!(h[1].is_nan() && h[5].is_nan() && bh[1].is_nan() && bh[5].is_nan());
    let defined = [0, 2, 3, 4, 6];
    for (i, want) in defined.iter().zip([0.04, 0.09, 0.09, 0.025, 0.2]) {
        close(h[*i], want, EXACT);
    }
    for (i, want) in defined.iter().zip([0.025, 0.05, 0.05, 0.025, 0.2]) {
        close(bh[*i], want, EXACT);
    }
    assert!(holm(&[f64::NAN])[0].is_nan());
}

// ---------------------------------------------------------------- Welch

const A: [f64; 8] = [12.1, 14.3, 9.8, 11.0, 13.5, 10.2, 15.1, 12.7];
const B: [f64; 6] = [9.4, 10.1, 8.7, 11.9, 9.0, 10.6];

#[track_caller]
fn check_welch(r: &MeanComparison, want: [f64; 8]) {
    let [mean_a, mean_b, t, df, p, low, high, d] = want;
    close(r.mean_a, mean_a, EXACT);
    close(r.mean_b, mean_b, EXACT);
    close(r.difference, mean_a - mean_b, EXACT);
    close(r.t, t, EXACT);
    close(r.df, df, EXACT);
    close(r.p, p, P);
    // The interval uses statrs' Student t quantile (an inverse incomplete beta):
    // held to the p-value tolerance.
    close(r.low, low, P);
    close(r.high, high, P);
    close(r.cohens_d, d, EXACT);
}

#[test]
fn welch_matches_scipy_and_pingouin() {
    // res = stats.ttest_ind(x, y, equal_var=False); ci = res.confidence_interval(conf)
    // d = pg.compute_effsize(x, y, paired=False, eftype='cohen'); means np.mean
    // x = A, y = B, conf 0.95 -> t 2.8640969289481277 df 11.690936774857803
    //   p 0.01457828536128639 ci (0.5659105597877865, 4.209089440212212)
    //   d 1.4433569898010723 means 12.3375 9.950000000000001
    let r = welch_t_test(&A, &B, 0.95).unwrap();
    assert_eq!((r.n_a, r.n_b), (8, 6));
    check_welch(
        &r,
        [
            12.3375,
            9.950_000_000_000_001,
            2.864_096_928_948_127_7,
            11.690_936_774_857_803,
            0.014_578_285_361_286_39,
            0.565_910_559_787_786_5,
            4.209_089_440_212_212,
            1.443_356_989_801_072_3,
        ],
    );
    // x = B, y = A, conf 0.9 -> t -2.8640969289481277 df 11.690936774857803
    //   p 0.01457828536128639 ci (-3.8764872786875753, -0.8985127213124233)
    //   d -1.4433569898010723
    let r = welch_t_test(&B, &A, 0.9).unwrap();
    check_welch(
        &r,
        [
            9.950_000_000_000_001,
            12.3375,
            -2.864_096_928_948_127_7,
            11.690_936_774_857_803,
            0.014_578_285_361_286_39,
            -3.876_487_278_687_575_3,
            -0.898_512_721_312_423_3,
            -1.443_356_989_801_072_3,
        ],
    );
    // x = [3, 4], y = [1, 1.5, 2, 9, 2.5], conf 0.95 -> t 0.19304683562633596
    //   df 4.725103676660472 p 0.8549435188408858
    //   ci (-3.7656786160025923, 4.365678616002592) d 0.10136060675992282
    let r = welch_t_test(&[3.0, 4.0], &[1.0, 1.5, 2.0, 9.0, 2.5], 0.95).unwrap();
    check_welch(
        &r,
        [
            3.5,
            3.2,
            0.193_046_835_626_335_96,
            4.725_103_676_660_472,
            0.854_943_518_840_885_8,
            -3.765_678_616_002_592_3,
            4.365_678_616_002_592,
            0.101_360_606_759_922_82,
        ],
    );
}

#[test]
fn welch_skips_nan_and_refuses_degenerate_inputs() {
    let mut a = A.to_vec();
    a.insert(3, f64::NAN);
    let mut b = B.to_vec();
    b.push(f64::NAN);
    let with_nan = welch_t_test(&a, &b, 0.95).unwrap();
    assert_eq!(with_nan, welch_t_test(&A, &B, 0.95).unwrap());
    assert_eq!((with_nan.n_a, with_nan.n_b), (8, 6));

    assert_eq!(welch_t_test(&[], &B, 0.95), None);
    assert_eq!(welch_t_test(&[1.0], &B, 0.95), None);
    assert_eq!(welch_t_test(&[f64::NAN, 2.0], &B, 0.95), None);
    // Zero variance in both groups: t is undefined.
    assert_eq!(welch_t_test(&[2.0, 2.0], &[3.0, 3.0, 3.0], 0.95), None);
    assert_eq!(welch_t_test(&[f64::INFINITY, 2.0], &B, 0.95), None);
    assert_eq!(welch_t_test(&A, &B, 1.0), None);
    assert_eq!(welch_t_test(&A, &B, f64::NAN), None);
    // One group constant, the other not: defined (df = n_b − 1).
    assert!(welch_t_test(&[2.0, 2.0], &B, 0.95).is_some());
}

// ---------------------------------------------------------------- Mann–Whitney

#[test]
fn mann_whitney_matches_scipy_asymptotic() {
    // res = stats.mannwhitneyu(x, y, method='asymptotic'); res.statistic, res.pvalue
    let e = [1.0, 2.0, 2.0, 3.0, 5.0, 5.0, 5.0, 8.0];
    let f = [2.0, 3.0, 3.0, 4.0, 6.0, 7.0];
    let big_a: Vec<f64> = (0..300).map(|i| f64::from((i * 37) % 101)).collect();
    let big_b: Vec<f64> = (0..250).map(|i| f64::from((i * 53) % 103) + 3.0).collect();
    let cases: [(&[f64], &[f64], f64, f64); 6] = [
        // x = E, y = F (ties) -> 21.0 0.7435992728182286
        (&e, &f, 21.0, 0.743_599_272_818_228_6),
        // x = F, y = E -> 27.0 0.7435992728182286
        (&f, &e, 27.0, 0.743_599_272_818_228_6),
        // x = [0.5, 1.5, 2.5], y = [3.5, 4.5, 5.5, 6.5] -> 0.0 0.05182992721790968
        (
            &[0.5, 1.5, 2.5],
            &[3.5, 4.5, 5.5, 6.5],
            0.0,
            0.051_829_927_217_909_68,
        ),
        // x = y = [1, 2, 3] -> 4.5 1.0 (U at its mean: the continuity correction pushes
        // p above 1, clipped)
        (&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0], 4.5, 1.0),
        // x = A, y = B (Welch samples) -> 42.0 0.02386844216457435
        (&A, &B, 42.0, 0.023_868_442_164_574_35),
        // x = [float((i*37) % 101) for i in range(300)],
        // y = [float((i*53) % 103) + 3.0 for i in range(250)] -> 35152.5 0.2059476115718285
        (&big_a, &big_b, 35_152.5, 0.205_947_611_571_828_5),
    ];
    for (x, y, u, p) in cases {
        let (got_u, got_p) = mann_whitney(x, y).expect("defined");
        close(got_u, u, EXACT);
        close(got_p, p, P);
    }
}

#[test]
fn mann_whitney_skips_nan_and_refuses_degenerate_inputs() {
    let e = [1.0, f64::NAN, 2.0, 2.0, 3.0, 5.0, 5.0, 5.0, 8.0];
    let f = [2.0, 3.0, 3.0, 4.0, 6.0, 7.0, f64::NAN];
    let (u, p) = mann_whitney(&e, &f).unwrap();
    close(u, 21.0, EXACT);
    close(p, 0.743_599_272_818_228_6, P);
    assert_eq!(mann_whitney(&[], &[1.0]), None);
    assert_eq!(mann_whitney(&[f64::NAN], &[1.0, 2.0]), None);
    // Every value tied: the variance of U is zero.
    assert_eq!(mann_whitney(&[4.0, 4.0], &[4.0, 4.0, 4.0]), None);
}

#[test]
fn mann_whitney_is_fast_on_large_samples() {
    let started = Instant::now();
    let a: Vec<f64> = (0..200_000u64)
        .map(|i| ((i * 7919) % 10_007) as f64)
        .collect();
    let b: Vec<f64> = (0..150_000u64)
        .map(|i| ((i * 104_729) % 10_009) as f64)
        .collect();
    // a = [float((i*7919) % 10007) for i in range(200000)]
    // b = [float((i*104729) % 10009) for i in range(150000)]
    // stats.mannwhitneyu(a, b, method='asymptotic') -> 14997236306.0 0.925562149006093
    let (u, p) = mann_whitney(&a, &b).unwrap();
    close(u, 14_997_236_306.0, EXACT);
    close(p, 0.925_562_149_006_093, P);
    assert!(
        started.elapsed().as_secs_f64() < 5.0,
        "{:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------- Cohen's h

#[test]
fn cohens_h_matches_statsmodels() {
    // proportion_effectsize(p1, p2)
    close(cohens_h(0.6, 0.4), 0.402_715_841_580_661_54, EXACT); // -> 0.40271584158066154
    close(cohens_h(0.1, 0.3), -0.515_778_371_934_124_1, EXACT); // -> -0.5157783719341241
    close(cohens_h(0.5, 0.5), 0.0, EXACT); // -> 0.0
    close(cohens_h(1.0, 0.0), std::f64::consts::PI, EXACT); // -> 3.141592653589793
    assert!(cohens_h(1.5, 0.2).is_nan());
}

#[test]
fn estimates_round_trip_through_json() {
    let e = table(20, 180, 40, 160).odds_ratio().unwrap();
    let back: Estimate = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
    for (got, want) in [
        (back.value, e.value),
        (back.low, e.low),
        (back.high, e.high),
    ] {
        close(got, want, 1e-15);
    }
    let m = welch_t_test(&A, &B, 0.95).unwrap();
    let json = serde_json::to_value(m).unwrap();
    for key in [
        "mean_a",
        "mean_b",
        "difference",
        "low",
        "high",
        "t",
        "df",
        "p",
        "cohens_d",
        "n_a",
        "n_b",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    let back: MeanComparison = serde_json::from_value(json).unwrap();
    assert_eq!((back.n_a, back.n_b), (8, 6));
    close(back.p, m.p, 1e-15);
}
