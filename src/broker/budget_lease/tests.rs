use serde_json::json;

use super::*;

fn ask(budget: Budget, per_minute: u32, want: u32, returned: u32) -> LeaseRequest {
    LeaseRequest {
        budget,
        per_minute,
        want,
        returned,
        for_itself: false,
    }
}

fn granted(granted: u32) -> LeaseGrant {
    LeaseGrant {
        granted,
        retry_after_s: 0,
    }
}

fn refused(retry_after_s: u64) -> LeaseGrant {
    LeaseGrant {
        granted: 0,
        retry_after_s,
    }
}

/// One isolate's whole path for one request: its slice, else a round trip to `ledger`
/// (counted in `calls`).
fn serve(
    leases: &mut Leases,
    ledger: &mut CallerLedger,
    budget: Budget,
    per_minute: u32,
    now_ms: u64,
    calls: &mut u32,
) -> Result<(), u64> {
    match leases.take("c", budget, per_minute, now_ms) {
        Ok(()) => Ok(()),
        Err(NoLease::Refused(retry_after_s)) => Err(retry_after_s),
        Err(NoLease::Ask(request)) => {
            *calls += 1;
            let grant = ledger.grant(&request, now_ms);
            leases.install("c", &request, &grant, now_ms)
        }
    }
}

#[test]
fn the_ledger_grants_a_burst_of_the_budget_then_refills() {
    let mut ledger = CallerLedger::default();
    assert_eq!(ledger.grant(&ask(Budget::Requests, 3, 2, 0), 0), granted(2));
    assert_eq!(ledger.grant(&ask(Budget::Requests, 3, 2, 0), 0), granted(1));
    assert_eq!(
        ledger.grant(&ask(Budget::Requests, 3, 1, 0), 0),
        refused(20),
        "one request per 20 s at 3/min"
    );
    assert_eq!(
        ledger.grant(&ask(Budget::Requests, 3, 1, 0), 10_000),
        refused(10),
        "half a request refilled: the other half in 10 s"
    );
    assert_eq!(
        ledger.grant(&ask(Budget::Requests, 3, 1, 0), 19_001),
        refused(1),
        "under a second left: 1"
    );
    assert_eq!(
        ledger.grant(&ask(Budget::Requests, 3, 3, 0), 20_000),
        granted(1)
    );
    assert_eq!(
        ledger.grant(&ask(Budget::Requests, 3, 3, 0), 60_000),
        granted(2),
        "refilled for 40 s: two whole requests"
    );
    assert_eq!(
        ledger.grant(&ask(Budget::ForcedRefreshes, 3, 1, 0), 60_000),
        granted(1),
        "each budget has its own bucket"
    );
}

#[test]
fn the_ledger_refills_to_capacity_only_and_takes_returns_back() {
    let mut ledger = CallerLedger::default();
    assert_eq!(
        ledger.grant(&ask(Budget::Requests, 10, 10, 0), 0),
        granted(10)
    );
    assert_eq!(
        ledger.grant(&ask(Budget::Requests, 10, 10, 4), 0),
        granted(4),
        "four returned come back"
    );
    assert_eq!(
        ledger.grant(&ask(Budget::Requests, 10, 10, 0), 0),
        refused(6)
    );
    assert_eq!(
        ledger.grant(&ask(Budget::Requests, 10, 10, 1_000), 600_000),
        granted(10),
        "never above capacity, however much comes back or refills"
    );
    assert_eq!(
        ledger.grant(&ask(Budget::Requests, 10, 1, 0), 600_000),
        refused(6)
    );
    assert_eq!(
        ledger.grant(&ask(Budget::Requests, 10, 1, u32::MAX), u64::MAX),
        granted(1),
        "no overflow"
    );
}

#[test]
fn the_ledger_clamps_want_and_follows_a_changed_budget() {
    let mut ledger = CallerLedger::default();
    assert_eq!(
        ledger.grant(&ask(Budget::Requests, 5, 0, 0), 0),
        granted(1),
        "want 0 counts as 1"
    );
    assert_eq!(
        ledger.grant(&ask(Budget::Requests, 5, 99, 0), 0),
        granted(4),
        "at most what is left"
    );
    let mut ledger = CallerLedger::default();
    assert_eq!(
        ledger.grant(&ask(Budget::Requests, 5, 99, 0), 0),
        granted(5),
        "at most the capacity"
    );
    let mut ledger = CallerLedger::default();
    assert_eq!(
        ledger.grant(&ask(Budget::Requests, 60, 1, 0), 0),
        granted(1)
    );
    assert_eq!(
        ledger.grant(&ask(Budget::Requests, 2, 60, 0), 0),
        granted(2),
        "a lowered budget caps what is left"
    );
    assert_eq!(
        ledger.grant(&ask(Budget::Requests, 2, 1, 0), 0),
        refused(30)
    );
    assert_eq!(
        ledger.grant(&ask(Budget::Requests, 120, 1, 0), 500),
        granted(1),
        "a raised budget refills at its own rate"
    );
}

#[test]
fn a_budget_of_zero_refuses_for_a_minute() {
    let mut ledger = CallerLedger::default();
    assert_eq!(
        ledger.grant(&ask(Budget::ForcedRefreshes, 0, 1, 0), 0),
        refused(60)
    );
    assert_eq!(
        ledger.grant(&ask(Budget::Requests, 600, 1, 0), 0),
        granted(1)
    );
}

#[test]
fn a_clock_stepping_back_refills_nothing() {
    let mut ledger = CallerLedger::default();
    assert_eq!(
        ledger.grant(&ask(Budget::Requests, 60, 60, 0), 10_000),
        granted(60)
    );
    assert_eq!(
        ledger.grant(&ask(Budget::Requests, 60, 1, 0), 5_000),
        refused(1)
    );
    assert_eq!(
        ledger.grant(&ask(Budget::Requests, 60, 1, 0), 10_999),
        refused(1),
        "still measured from 10 s"
    );
    assert_eq!(
        ledger.grant(&ask(Budget::Requests, 60, 1, 0), 11_000),
        granted(1)
    );
}

#[test]
fn the_wire_format_names_budgets_in_snake_case() {
    let request = ask(Budget::ForcedRefreshes, 6, 1, 0);
    let text = serde_json::to_value(&request).unwrap();
    assert_eq!(
        text,
        json!({"budget": "forced_refreshes", "per_minute": 6, "want": 1, "returned": 0})
    );
    assert_eq!(
        serde_json::from_value::<LeaseRequest>(text).unwrap(),
        request
    );
    assert_eq!(
        serde_json::to_value(Budget::Requests).unwrap(),
        json!("requests")
    );
    let grant = refused(3);
    let text = serde_json::to_string(&grant).unwrap();
    assert_eq!(text, r#"{"granted":0,"retry_after_s":3}"#);
    assert_eq!(serde_json::from_str::<LeaseGrant>(&text).unwrap(), grant);
}

#[test]
fn slices_start_at_a_second_of_the_rate_and_double_while_they_run_out() {
    let mut leases = Leases::default();
    let first = ask(Budget::Requests, 600, 10, 0);
    assert_eq!(
        leases.take("c", Budget::Requests, 600, 0),
        Err(NoLease::Ask(first.clone()))
    );
    assert_eq!(leases.install("c", &first, &granted(10), 0), Ok(()));
    for _ in 0..9 {
        assert_eq!(leases.take("c", Budget::Requests, 600, 1), Ok(()));
    }
    let doubled = ask(Budget::Requests, 600, 20, 0);
    assert_eq!(
        leases.take("c", Budget::Requests, 600, 1),
        Err(NoLease::Ask(doubled.clone()))
    );
    let for_itself = LeaseRequest {
        for_itself: true,
        ..ask(Budget::Requests, 600, 1, 0)
    };
    assert_eq!(
        leases.take("c", Budget::Requests, 600, 1),
        Err(NoLease::Ask(for_itself.clone())),
        "while a slice is asked for, a concurrent miss asks for itself only"
    );
    assert_eq!(leases.install("c", &for_itself, &granted(1), 1), Ok(()));
    assert_eq!(leases.install("c", &doubled, &granted(20), 1), Ok(()));
    for _ in 0..19 {
        assert_eq!(
            leases.take("c", Budget::Requests, 600, 1),
            Ok(()),
            "the slice is whole"
        );
    }
    // The sizes a caller at 600/min running out every time goes through: up to 600 / 4.
    let mut sizes = Vec::new();
    for _ in 0..5 {
        let Err(NoLease::Ask(request)) = leases.take("c", Budget::Requests, 600, 1) else {
            panic!("no slice left")
        };
        sizes.push(request.want);
        leases.install("c", &request, &granted(1), 1).unwrap();
    }
    assert_eq!(sizes, [40, 80, 150, 150, 150]);
    assert_eq!(
        leases.take("d", Budget::Requests, 30, 0),
        Err(NoLease::Ask(ask(Budget::Requests, 30, 1, 0))),
        "at least 1"
    );
}

#[test]
fn an_expired_slice_halves_the_next_and_returns_its_rest() {
    let mut leases = Leases::default();
    let first = ask(Budget::Requests, 600, 10, 0);
    assert_eq!(
        leases.take("c", Budget::Requests, 600, 0),
        Err(NoLease::Ask(first.clone()))
    );
    leases.install("c", &first, &granted(10), 0).unwrap();
    assert_eq!(
        leases.take("c", Budget::Requests, 600, LEASE_MS - 1),
        Ok(())
    );
    assert_eq!(
        leases.take("c", Budget::Requests, 600, LEASE_MS),
        Err(NoLease::Ask(ask(Budget::Requests, 600, 10, 8))),
        "expired with 8 unused: returned; halved, but not under a second's worth"
    );
    let request = ask(Budget::Requests, 600, 10, 8);
    leases
        .install("c", &request, &granted(10), LEASE_MS)
        .unwrap();
    for _ in 0..9 {
        leases.take("c", Budget::Requests, 600, LEASE_MS).unwrap();
    }
    let Err(NoLease::Ask(request)) = leases.take("c", Budget::Requests, 600, LEASE_MS) else {
        panic!("no slice left")
    };
    assert_eq!(request, ask(Budget::Requests, 600, 20, 0));
    leases
        .install("c", &request, &granted(20), LEASE_MS)
        .unwrap();
    let later = 3 * LEASE_MS;
    assert_eq!(
        leases.take("c", Budget::Requests, 600, later),
        Err(NoLease::Ask(ask(Budget::Requests, 600, 10, 19))),
        "20 halved back to 10"
    );
    assert_eq!(
        leases.take("c", Budget::Requests, 8, later),
        Err(NoLease::Ask(LeaseRequest {
            for_itself: true,
            ..ask(Budget::Requests, 8, 1, 0)
        })),
        "a concurrent miss asks for itself only; nothing returned twice"
    );
}

#[test]
fn a_grant_asked_for_itself_leaves_the_slice() {
    let mut leases = Leases::default();
    let Err(NoLease::Ask(one)) = leases.take("c", Budget::Requests, 600, 0) else {
        panic!()
    };
    let Err(NoLease::Ask(two)) = leases.take("c", Budget::Requests, 600, 0) else {
        panic!()
    };
    assert!(two.for_itself && two.want == 1);
    leases.install("c", &one, &granted(10), 0).unwrap();
    leases.install("c", &two, &granted(1), 0).unwrap();
    for _ in 0..9 {
        leases.take("c", Budget::Requests, 600, 1).unwrap();
    }
    assert_eq!(
        leases.take("c", Budget::Requests, 600, 1),
        Err(NoLease::Ask(ask(Budget::Requests, 600, 20, 0))),
        "the slice ran out whole: doubled, nothing to return"
    );
}

#[test]
fn a_lost_ask_stops_counting_after_a_slice_lifetime() {
    let mut leases = Leases::default();
    // Its request was cut off before the grant was installed.
    let Err(NoLease::Ask(_lost)) = leases.take("c", Budget::Requests, 600, 0) else {
        panic!()
    };
    let Err(NoLease::Ask(meanwhile)) = leases.take("c", Budget::Requests, 600, LEASE_MS - 1) else {
        panic!()
    };
    assert!(meanwhile.for_itself);
    assert_eq!(
        leases.take("c", Budget::Requests, 600, LEASE_MS),
        Err(NoLease::Ask(ask(Budget::Requests, 600, 10, 0))),
        "a slice is asked for again"
    );
}

#[test]
fn a_refusal_is_remembered_until_its_retry_after() {
    let mut leases = Leases::default();
    let request = ask(Budget::Requests, 10, 1, 0);
    assert_eq!(leases.install("c", &request, &refused(6), 1_000), Err(6));
    assert_eq!(
        leases.take("c", Budget::Requests, 10, 1_000),
        Err(NoLease::Refused(6))
    );
    assert_eq!(
        leases.take("c", Budget::Requests, 10, 6_999),
        Err(NoLease::Refused(1))
    );
    assert!(
        matches!(
            leases.take("c", Budget::ForcedRefreshes, 10, 1_000),
            Err(NoLease::Ask(_))
        ),
        "per budget"
    );
    assert!(matches!(
        leases.take("c", Budget::Requests, 10, 7_000),
        Err(NoLease::Ask(_))
    ));
    assert_eq!(
        leases.install("c", &request, &refused(0), 7_000),
        Err(1),
        "at least a second"
    );
    leases.install("c", &request, &granted(1), 7_000).unwrap();
    assert!(
        matches!(
            leases.take("c", Budget::Requests, 10, 7_000),
            Err(NoLease::Ask(_))
        ),
        "a grant ends the refusal"
    );
}

#[test]
fn forced_refreshes_are_asked_for_one_at_a_time() {
    let mut leases = Leases::default();
    let mut ledger = CallerLedger::default();
    let mut calls = 0;
    for _ in 0..6 {
        assert_eq!(
            serve(
                &mut leases,
                &mut ledger,
                Budget::ForcedRefreshes,
                6,
                0,
                &mut calls
            ),
            Ok(())
        );
    }
    assert_eq!(calls, 6, "no leasing");
    assert_eq!(
        serve(
            &mut leases,
            &mut ledger,
            Budget::ForcedRefreshes,
            6,
            0,
            &mut calls
        ),
        Err(10),
        "one forced refresh per 10 s at 6/min"
    );
    assert_eq!(
        serve(
            &mut leases,
            &mut ledger,
            Budget::Requests,
            600,
            0,
            &mut calls
        ),
        Ok(()),
        "plain requests keep their budget"
    );
    assert_eq!(
        serve(
            &mut leases,
            &mut ledger,
            Budget::ForcedRefreshes,
            6,
            10_000,
            &mut calls
        ),
        Ok(())
    );
}

/// Two isolates sharing one caller's ledger at 10 per minute: 10 in a burst, then one per
/// 6 s, however the requests spread.
#[test]
fn two_isolates_share_one_budget() {
    let mut ledger = CallerLedger::default();
    let mut isolates = [Leases::default(), Leases::default()];
    let mut calls = 0;
    let mut served = 0;
    for i in 0..50 {
        let isolate = &mut isolates[i % 2];
        if serve(isolate, &mut ledger, Budget::Requests, 10, 0, &mut calls).is_ok() {
            served += 1;
        }
    }
    assert_eq!(served, 10);
    // Over the next minute, every 100 ms, alternately: 10 more (one per 6 s), minus the
    // early refusals of unused slices, which come back once they expire.
    let mut times = Vec::new();
    for step in 1..=600u64 {
        let now = step * 100;
        let isolate = &mut isolates[step as usize % 2];
        if serve(isolate, &mut ledger, Budget::Requests, 10, now, &mut calls).is_ok() {
            times.push(now);
        }
    }
    assert_eq!(times.len(), 10, "{times:?}");
    assert_eq!(times[0], 6_000);
    assert_eq!(times[9], 60_000);
}

/// 1,000 requests from one isolate, evenly spread: the ledger calls stated in the module's
/// doc. A slice lasts at most LEASE_MS, so an isolate in use asks at least every 10 s.
#[test]
fn one_isolate_asks_rarely() {
    for (per_minute, spacing_ms, expected_calls) in [(600, 60, 10), (600, 120, 15), (6_000, 6, 4)] {
        let mut ledger = CallerLedger::default();
        let mut leases = Leases::default();
        let mut calls = 0;
        for i in 0..1_000 {
            let now = 1_000_000 + i * spacing_ms;
            assert_eq!(
                serve(
                    &mut leases,
                    &mut ledger,
                    Budget::Requests,
                    per_minute,
                    now,
                    &mut calls
                ),
                Ok(()),
                "request {i}"
            );
        }
        assert_eq!(
            calls, expected_calls,
            "{per_minute}/min, one per {spacing_ms} ms"
        );
    }
}

#[test]
fn a_cold_burst_in_one_isolate_takes_no_more_than_it_serves() {
    // 100 requests arrive at once, before any grant comes back: one asks for a slice, the
    // rest for themselves. Asking for 100 slices of 10 would take 1,000 of a 600 budget.
    let mut leases = Leases::default();
    let mut ledger = CallerLedger::default();
    let asks: Vec<LeaseRequest> = (0..100)
        .map(|_| match leases.take("c", Budget::Requests, 600, 0) {
            Err(NoLease::Ask(request)) => request,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(asks.iter().map(|a| a.want).sum::<u32>(), 10 + 99);
    for request in &asks {
        let grant = ledger.grant(request, 0);
        assert_eq!(
            leases.install("c", request, &grant, 0),
            Ok(()),
            "none refused"
        );
    }
    for _ in 0..9 {
        assert_eq!(
            leases.take("c", Budget::Requests, 600, 1),
            Ok(()),
            "the slice serves the next 9"
        );
    }
}

#[test]
fn over_budget_replies_name_the_caller_and_budget() {
    let reply = over_budget_reply("jobs", Budget::Requests, 2, 30);
    assert_eq!(reply.status, 429);
    assert_eq!(reply.retry_after_s, Some(30));
    assert_eq!(
        reply.body,
        json!({"error": "slow_down", "error_description": "caller jobs is over its budget of 2 requests per minute"})
    );
    let reply = over_budget_reply("jobs", Budget::ForcedRefreshes, 1, 60);
    assert_eq!(
        reply.body["error_description"],
        "caller jobs is over its budget of 1 forced refreshes per minute; requests without forceRefresh are still served"
    );
}
