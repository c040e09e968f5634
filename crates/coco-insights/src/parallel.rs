//! Accounts are analysed independently: one helper spreads them over the cores in
//! contiguous chunks, so results come back in frame order.

/// `(0..count).map(f)`, over up to 8 threads when there are at least `min_parallel`
/// items (below that, threads cost more than they save).
pub fn map_ordered<T: Send>(
    count: usize,
    min_parallel: usize,
    f: impl Fn(usize) -> T + Sync,
) -> Vec<T> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    if workers == 1 || count < min_parallel {
        return (0..count).map(f).collect();
    }
    let chunk = count.div_ceil(workers);
    let f = &f;
    let mut results = Vec::with_capacity(count);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                let range = (worker * chunk).min(count)..((worker + 1) * chunk).min(count);
                scope.spawn(move || range.map(f).collect::<Vec<_>>())
            })
            .collect();
        for handle in handles {
            // The analyzers do not panic on any input; if one ever did, re-raise it here
            // instead of returning a partial list that no longer matches the frame.
            let part = handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            results.extend(part);
        }
    });
    results
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_keep_their_order() {
        let squares = super::map_ordered(20_001, 10, |i| i * i);
        assert_eq!(squares.len(), 20_001);
        assert!(squares.iter().enumerate().all(|(i, s)| *s == i * i));
    }
}
