//! A throwaway PostgreSQL for scripts (scripts/api-fuzz with `API_FUZZ_STORE=postgres`):
//! starts one as tests/src/pg.rs does, makes a fresh database, prints its URL on a
//! line of its own, and keeps it until stdin closes or this process ends (its
//! watchdog then stops the server and removes its files).

use std::io::{Read, Write};

fn main() {
    let pg = ikd_tests::pg::PgServer::start();
    let url = pg.fresh_database();
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{url}");
    let _ = out.flush();
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    pg.stop();
}
