//! 64 concurrent requests mixing replays, competing ClientTokens, participants of one contact
//! and of another, over a handful of attachments; then the invariants are checked in DynamoDB.

use std::collections::{BTreeMap, BTreeSet};

use devkit::fixtures::*;
use devkit::local;

const CONTRACT_ANSWERS: [(u16, Option<&str>); 5] = [
    (200, None),
    (403, Some("AccessDeniedException")),
    (409, Some("ConflictException")),
    (402, Some("ServiceQuotaExceededException")),
    (429, Some("ThrottlingException")),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_mixed_concurrent_requests_keep_every_invariant() {
    let quota = 2;
    let handler = handler_with(local::dynamodb_client(), with_quota(quota));
    let (first_contact, second_contact) = (unique("contact"), unique("contact"));
    let participants = [
        Participant::connected(&first_contact).await,
        Participant::connected(&first_contact).await,
        Participant::connected(&second_contact).await,
    ];
    // Three attachments in the first contact (one more than its quota), two in the second.
    let mut attachments = Vec::new(); // (id, owner index)
    for (owner, count) in [(0, 2), (1, 1), (2, 2)] {
        for _ in 0..count {
            attachments.push((participants[owner].attachment().await, owner));
        }
    }

    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let requests: Vec<(usize, usize, String)> = (0..64)
        .map(|_| {
            let who = rng.usize(..participants.len());
            // Mostly their own attachments, sometimes anyone's.
            let own: Vec<usize> = (0..attachments.len())
                .filter(|&a| attachments[a].1 == who)
                .collect();
            let which = if rng.u8(..4) == 0 {
                rng.usize(..attachments.len())
            } else {
                own[rng.usize(..own.len())]
            };
            (who, which, format!("token-{}", rng.u8(..3)))
        })
        .collect();

    let answers = handle_concurrently(
        &handler,
        requests
            .iter()
            .map(|(who, which, client_token)| {
                participants[*who].complete_request(&attachments[*which].0, client_token)
            })
            .collect(),
    )
    .await;

    // Every answer is one of the contract's.
    for answer in &answers {
        assert!(
            CONTRACT_ANSWERS
                .iter()
                .any(|(s, t)| (*s, t.map(str::to_owned)) == *answer),
            "not a contract answer: {answer:?}"
        );
    }
    let kinds: BTreeSet<u16> = answers.iter().map(|a| a.0).collect();
    println!("answers by status: {kinds:?}");
    for status in [200, 403, 409, 402] {
        assert!(
            kinds.contains(&status),
            "the mix exercised no {status}: {answers:?}"
        );
    }
    // Who got a 200 for what.
    let mut winners: BTreeMap<usize, BTreeSet<(usize, &str)>> = BTreeMap::new(); // attachment → (who, token)
    let mut successes: BTreeMap<(usize, &str), BTreeSet<usize>> = BTreeMap::new(); // (who, token) → attachments
    for ((who, which, token), answer) in requests.iter().zip(&answers) {
        if answer.0 == 200 {
            assert_eq!(
                attachments[*which].1, *who,
                "nobody completes another's attachment"
            );
            winners
                .entry(*which)
                .or_default()
                .insert((*who, token.as_str()));
            successes
                .entry((*who, token.as_str()))
                .or_default()
                .insert(*which);
        }
    }
    // Each attachment approved at most once, by exactly the requests that won it.
    for (which, (id, _)) in attachments.iter().enumerate() {
        let status = attachment_status(id).await;
        let won_by = winners.get(&which).map_or(0, BTreeSet::len);
        assert!(
            won_by <= 1,
            "attachment {which} won by {won_by} different requests"
        );
        assert_eq!(
            status == "APPROVED",
            won_by == 1,
            "attachment {which}: {status}, won by {won_by}"
        );
    }
    // Each contact's counter equals its approved attachments, and never exceeds the quota.
    for (contact, owners) in [(&first_contact, [0, 1]), (&second_contact, [2, 2])] {
        let mut approved = 0;
        for (id, owner) in &attachments {
            if owners.contains(owner) && attachment_status(id).await == "APPROVED" {
                approved += 1;
            }
        }
        assert_eq!(completed_count(contact).await, approved);
        assert!(approved <= quota);
    }
    // Each idempotency record matches what its callers heard.
    for (who, participant) in participants.iter().enumerate() {
        for token in ["token-0", "token-1", "token-2"] {
            let record = participant.idempotency_record(token).await;
            match successes.get(&(who, token)) {
                Some(won) => {
                    assert_eq!(won.len(), 1, "one ClientToken, one attachment");
                    let which = *won.iter().next().unwrap();
                    let record = record.expect("a success leaves its record");
                    assert_eq!(
                        record["RequestHash"].as_s().unwrap(),
                        &sha256_hex(attachments[which].0.as_bytes())
                    );
                }
                None => assert!(record.is_none(), "a request that failed recorded nothing"),
            }
        }
    }
}
