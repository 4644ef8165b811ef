"""Reading delivery status notifications (RFC 3464) and abuse reports (RFC 5965)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groundswell.bounces.dsn import Report, ReportKind, read_reports
from tests.bounces.cast import SAMPLES, sample

ALL_SAMPLES = sorted(path.name for path in SAMPLES.glob("*.eml"))


class TestDeliveryStatus:
    def test_it_reads_a_hard_bounce_with_the_returned_message(self):
        assert read_reports(sample("postfix-hard-bounce.eml")) == [
            Report(
                ReportKind.HARD,
                ("<12.3401.Qm8vT2xLrA@act.example.org>",),
                "bob.marsh@wetlands.example.com",
                "5.1.1",
                "smtp; 550 5.1.1 <bob.marsh@wetlands.example.com>: Recipient address "
                "rejected: User unknown in virtual mailbox table",
            )
        ]

    def test_it_finds_the_message_id_in_returned_headers_only(self):
        [report] = read_reports(sample("exim-headers-only.eml"))
        assert report.kind == ReportKind.HARD
        assert report.message_ids == ("<12.3402.p0Zx7RwYtc@act.example.org>",)
        assert report.address == "carol.fenn@moor.example.org"
        assert report.status == "5.2.1"

    def test_a_delay_is_a_soft_bounce(self):
        [report] = read_reports(sample("delayed.eml"))
        assert report.kind == ReportKind.SOFT
        assert report.status == "4.2.2"
        assert report.message_ids == ("<12.3403.Zz81nNq4Lk@act.example.org>",)

    def test_a_bounce_without_the_original_still_names_the_address(self):
        [report] = read_reports(sample("hard-bounce-no-original.eml"))
        assert report.kind == ReportKind.HARD
        assert report.message_ids == ()
        assert report.address == "Erin.Stone@Quarry.Example.org"

    def test_a_failure_with_a_4xx_status_is_soft(self):
        raw = sample("postfix-hard-bounce.eml").replace(b"Status: 5.1.1", b"Status: 4.4.1")
        [report] = read_reports(raw)
        assert report.kind == ReportKind.SOFT

    def test_it_ignores_a_delivered_action(self):
        raw = sample("postfix-hard-bounce.eml").replace(b"Action: failed", b"Action: delivered")
        assert read_reports(raw) == []

    def test_it_takes_the_message_id_from_references_when_nothing_is_returned(self):
        raw = sample("hard-bounce-no-original.eml").replace(
            b"MIME-Version: 1.0\n",
            b"MIME-Version: 1.0\nIn-Reply-To: <12.9.abc@act.example.org>\n",
            1,
        )
        [report] = read_reports(raw)
        assert report.message_ids == ("<12.9.abc@act.example.org>",)

    def test_it_reads_one_report_per_failed_recipient(self):
        raw = sample("hard-bounce-no-original.eml").replace(
            b"\n--b0und4ry--",
            b"\nFinal-Recipient: rfc822; gina@quarry.example.org\nAction: failed\n"
            b"Status: 5.7.1\n\n--b0und4ry--",
        )
        reports = read_reports(raw)
        assert [r.address for r in reports] == [
            "Erin.Stone@Quarry.Example.org",
            "gina@quarry.example.org",
        ]


class TestFeedbackReports:
    def test_it_reads_an_abuse_report(self):
        [report] = read_reports(sample("arf-abuse.eml"))
        assert report.kind == ReportKind.COMPLAINT
        assert report.message_ids == ("<12.3404.Yt6cVb0Wqe@act.example.org>",)
        assert report.address == "frank.moss@mailbox.example.com"

    def test_it_falls_back_to_the_original_to_header(self):
        raw = sample("arf-abuse.eml").replace(
            b"Original-Rcpt-To: <frank.moss@mailbox.example.com>\n", b""
        )
        [report] = read_reports(raw)
        assert report.address == "frank.moss@mailbox.example.com"

    def test_it_ignores_feedback_that_is_not_abuse(self):
        assert read_reports(sample("arf-fraud.eml")) == []


class TestAnythingElse:
    def test_it_ignores_an_auto_reply(self):
        assert read_reports(sample("out-of-office.eml")) == []

    def test_it_ignores_other_report_types(self):
        raw = sample("delayed.eml").replace(
            b'report-type="delivery-status"', b'report-type="disposition-notification"'
        )
        assert read_reports(raw) == []

    def test_it_ignores_a_report_without_its_status_part(self):
        raw = sample("delayed.eml").replace(
            b"Content-Type: message/delivery-status", b"Content-Type: text/plain"
        )
        assert read_reports(raw) == []

    @settings(max_examples=300, deadline=None)
    @given(st.binary(max_size=4000))
    def test_random_bytes_never_raise(self, raw):
        assert isinstance(read_reports(raw), list)

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        name=st.sampled_from(ALL_SAMPLES),
        data=st.data(),
    )
    def test_mutated_reports_never_raise(self, name, data):
        raw = bytearray(sample(name))
        for _ in range(data.draw(st.integers(1, 12))):
            action = data.draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
            at = data.draw(st.integers(0, max(len(raw) - 1, 0)))
            if action == "flip" and raw:
                raw[at] = data.draw(st.integers(0, 255))
            elif action == "cut":
                del raw[at : at + data.draw(st.integers(1, 200))]
            elif action == "insert":
                raw[at:at] = data.draw(
                    st.sampled_from(
                        [
                            b"\n\n",
                            b"--",
                            b";",
                            b"\r\n",
                            b"=?utf-8?b?",
                            b"Content-Type: multipart/report; boundary=x\n",
                            b"Status: 5.",
                            b"\xff\xfe",
                            b"<>",
                            b"Final-Recipient: ;\n",
                        ]
                    )
                )
            else:
                del raw[at:]
        reports = read_reports(bytes(raw))
        assert all(isinstance(report, Report) for report in reports)
