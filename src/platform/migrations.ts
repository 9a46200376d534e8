/**
 * The SQL migrations, embedded in the program (and so in the compiled binary). Every file in
 * migrations/ must be listed here; a test checks that none is missing.
 */
import core from "../../migrations/001_core.sql" with { type: "text" };
import money from "../../migrations/002_money.sql" with { type: "text" };
import keyedRequestHashes from "../../migrations/003_keyed_request_hashes.sql" with { type: "text" };
import cardKeyChecks from "../../migrations/004_card_key_checks.sql" with { type: "text" };
import teamNames from "../../migrations/005_team_names.sql" with { type: "text" };
import access from "../../migrations/006_access.sql" with { type: "text" };
import events from "../../migrations/007_events.sql" with { type: "text" };
import spendControls from "../../migrations/008_spend_controls.sql" with { type: "text" };
import metadata from "../../migrations/009_metadata.sql" with { type: "text" };
import keptWindows from "../../migrations/010_kept_windows.sql" with { type: "text" };
import spendReads from "../../migrations/011_spend_reads.sql" with { type: "text" };
import checkedPostings from "../../migrations/012_checked_postings.sql" with { type: "text" };

export const MIGRATIONS: readonly { fileName: string; sql: string }[] = [
  { fileName: "001_core.sql", sql: core },
  { fileName: "002_money.sql", sql: money },
  { fileName: "003_keyed_request_hashes.sql", sql: keyedRequestHashes },
  { fileName: "004_card_key_checks.sql", sql: cardKeyChecks },
  { fileName: "005_team_names.sql", sql: teamNames },
  { fileName: "006_access.sql", sql: access },
  { fileName: "007_events.sql", sql: events },
  { fileName: "008_spend_controls.sql", sql: spendControls },
  { fileName: "009_metadata.sql", sql: metadata },
  { fileName: "010_kept_windows.sql", sql: keptWindows },
  { fileName: "011_spend_reads.sql", sql: spendReads },
  { fileName: "012_checked_postings.sql", sql: checkedPostings },
];
