//! Survey rounds (資源調査): `survey_rounds` and `survey_answers`, one row per service asked.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use tsunagu_core::access::Target;
use tsunagu_core::ids::{AccountId, ChildId, OrganisationId, ServiceId, SurveyId};
use tsunagu_core::municipality::MunicipalityCode;

use crate::db::{Db, codec};

pub const RESOURCE_TYPE: &str = "survey_round";

/// A round with how many services it asked and how many answered.
#[derive(Debug, Clone)]
pub struct Round {
    pub id: SurveyId,
    pub title: String,
    pub prefecture_code: String,
    /// `None`: the whole prefecture.
    pub municipality_code: Option<String>,
    pub kinds: Vec<String>,
    pub closes_on: NaiveDate,
    pub opened_by_name: String,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub asked: i64,
    pub answered: i64,
}

impl Round {
    /// Answers are taken until the end of `closes_on`, unless closed early.
    pub fn is_open(&self, today: NaiveDate) -> bool {
        self.closed_at.is_none() && today <= self.closes_on
    }

    /// The last day in 和暦, as pages and notices say it.
    pub fn closes_ja(&self) -> String {
        tsunagu_core::calendar::format_wareki(self.closes_on)
    }
}

macro_rules! select_round {
    ($($tail:tt)+) => {
        concat!(
            "SELECT r.id, r.title, r.prefecture_code, r.municipality_code, r.kinds, r.closes_on, \
             r.opened_at, r.closed_at, COALESCE(a.display_name, '') AS opened_by_name, \
             (SELECT count(*) FROM survey_answers x WHERE x.round_id = r.id) AS asked, \
             (SELECT count(*) FROM survey_answers x WHERE x.round_id = r.id \
               AND x.answered_at IS NOT NULL) AS answered \
             FROM survey_rounds r LEFT JOIN accounts a ON a.id = r.opened_by ",
            $($tail)+
        )
    };
}

fn round_from(row: &AnyRow) -> Result<Round, sqlx::Error> {
    let kinds: String = row.try_get("kinds")?;
    let closes: String = row.try_get("closes_on")?;
    let closed: Option<i64> = row.try_get("closed_at")?;
    Ok(Round {
        id: SurveyId::from_stored(row.try_get("id")?),
        title: row.try_get("title")?,
        prefecture_code: row.try_get("prefecture_code")?,
        municipality_code: row.try_get("municipality_code")?,
        kinds: kinds.split(',').map(str::to_string).collect(),
        closes_on: codec::date_from_db(&closes, "closes_on")?,
        opened_by_name: row.try_get("opened_by_name")?,
        opened_at: codec::get_instant(row, "opened_at")?,
        closed_at: closed.and_then(DateTime::from_timestamp_millis),
        asked: row.try_get("asked")?,
        answered: row.try_get("answered")?,
    })
}

impl crate::gate::Record for Round {
    const RESOURCE: &'static str = RESOURCE_TYPE;
    const NOT_FOUND_JA: &'static str =
        "指定された資源調査は見つかりません（存在しないか、担当する範囲の外にあります）";
    const BACK: (&'static str, &'static str) = ("/directory/surveys", "資源調査の一覧へ戻る");

    type Id = SurveyId;

    async fn load(
        db: &Db,
        id: &SurveyId,
        _today: NaiveDate,
    ) -> Result<Option<(Self, Target)>, sqlx::Error> {
        let Some(round) = get(db, id).await? else {
            return Ok(None);
        };
        // A town's round belongs to the town; a prefecture's to the prefecture itself.
        let place = match &round.municipality_code {
            Some(code) => MunicipalityCode::parse(code).ok(),
            None => crate::features::municipalities::repo::prefecture_list()
                .into_iter()
                .find(|p| p.prefecture_code == round.prefecture_code)
                .and_then(|p| MunicipalityCode::parse(&p.code).ok()),
        };
        let Some(place) = place else {
            return Ok(None);
        };
        let mut target = Target::place(RESOURCE_TYPE, place);
        target.resource_id = round.id.to_string();
        Ok(Some((round, target)))
    }

    fn id(&self) -> &SurveyId {
        &self.id
    }

    fn child_id(&self) -> Option<&ChildId> {
        None
    }
}

pub async fn get(db: &Db, id: &SurveyId) -> Result<Option<Round>, sqlx::Error> {
    sqlx::query(select_round!("WHERE r.id = $1"))
        .bind(id.as_str())
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(round_from)
        .transpose()
}

/// The rounds of a prefecture, newest first: all of them, or (`town`) the town's own and
/// the prefecture's.
pub async fn rounds_in(
    db: &Db,
    prefecture: &str,
    town: Option<&str>,
) -> Result<Vec<Round>, sqlx::Error> {
    let rows = match town {
        None => {
            sqlx::query(select_round!(
                "WHERE r.prefecture_code = $1 ORDER BY r.opened_at DESC, r.id LIMIT 200"
            ))
            .bind(prefecture)
            .fetch_all(db.pool())
            .await?
        }
        Some(code) => {
            sqlx::query(select_round!(
                "WHERE r.prefecture_code = $1 AND (r.municipality_code = $2 OR r.municipality_code IS NULL) \
                 ORDER BY r.opened_at DESC, r.id LIMIT 200"
            ))
            .bind(prefecture)
            .bind(code)
            .fetch_all(db.pool())
            .await?
        }
    };
    rows.iter().map(round_from).collect()
}

/// A new round and the services it asks: `(service, organisation, municipality)`.
pub struct NewRound<'a> {
    pub id: &'a SurveyId,
    pub title: &'a str,
    pub prefecture_code: &'a str,
    pub municipality_code: Option<&'a str>,
    pub kinds: &'a [String],
    pub closes_on: NaiveDate,
    pub asked: &'a [(ServiceId, OrganisationId, String)],
}

pub async fn insert(
    conn: &mut AnyConnection,
    round: &NewRound<'_>,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO survey_rounds (id, title, prefecture_code, municipality_code, kinds, closes_on, \
         opened_by, opened_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(round.id.as_str())
    .bind(round.title)
    .bind(round.prefecture_code)
    .bind(round.municipality_code)
    .bind(round.kinds.join(","))
    .bind(codec::date_to_db(round.closes_on))
    .bind(account_id.as_str())
    .bind(codec::instant_to_db(now))
    .execute(&mut *conn)
    .await?;
    for (service, organisation, town) in round.asked {
        sqlx::query(
            "INSERT INTO survey_answers (round_id, service_id, organisation_id, municipality_code) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(round.id.as_str())
        .bind(service.as_str())
        .bind(organisation.as_str())
        .bind(town)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// One service asked in a round, with its answer if any.
#[derive(Debug, Clone)]
pub struct Asked {
    pub round_id: SurveyId,
    pub service_id: ServiceId,
    pub service_name: String,
    pub kind: String,
    pub organisation_id: OrganisationId,
    pub organisation_name: String,
    pub municipality_code: String,
    pub answered_at: Option<DateTime<Utc>>,
    pub answered_by_name: String,
    /// The figures as answered (JSON).
    pub answer: Option<String>,
    pub reminded_at: Option<DateTime<Utc>>,
}

macro_rules! select_asked {
    ($($tail:tt)+) => {
        concat!(
            "SELECT x.round_id, x.service_id, s.name AS service_name, s.kind, x.organisation_id, \
             o.name AS organisation_name, x.municipality_code, x.answered_at, x.answer, \
             x.reminded_at, COALESCE(a.display_name, '') AS answered_by_name \
             FROM survey_answers x JOIN services s ON s.id = x.service_id \
             JOIN organisations o ON o.id = x.organisation_id \
             LEFT JOIN accounts a ON a.id = x.answered_by ",
            $($tail)+
        )
    };
}

fn asked_from(row: &AnyRow) -> Result<Asked, sqlx::Error> {
    let answered: Option<i64> = row.try_get("answered_at")?;
    let reminded: Option<i64> = row.try_get("reminded_at")?;
    Ok(Asked {
        round_id: SurveyId::from_stored(row.try_get("round_id")?),
        service_id: ServiceId::from_stored(row.try_get("service_id")?),
        service_name: row.try_get("service_name")?,
        kind: row.try_get("kind")?,
        organisation_id: OrganisationId::from_stored(row.try_get("organisation_id")?),
        organisation_name: row.try_get("organisation_name")?,
        municipality_code: row.try_get("municipality_code")?,
        answered_at: answered.and_then(DateTime::from_timestamp_millis),
        answered_by_name: row.try_get("answered_by_name")?,
        answer: row.try_get("answer")?,
        reminded_at: reminded.and_then(DateTime::from_timestamp_millis),
    })
}

/// Every service a round asked, by town and name.
pub async fn asked_in(db: &Db, round: &SurveyId) -> Result<Vec<Asked>, sqlx::Error> {
    let rows = sqlx::query(select_asked!(
        "WHERE x.round_id = $1 ORDER BY x.municipality_code, s.kana, s.id"
    ))
    .bind(round.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(asked_from).collect()
}

/// One service in one round, if the round asked it.
pub async fn asked_one(
    db: &Db,
    round: &SurveyId,
    service: &ServiceId,
) -> Result<Option<Asked>, sqlx::Error> {
    sqlx::query(select_asked!("WHERE x.round_id = $1 AND x.service_id = $2"))
        .bind(round.as_str())
        .bind(service.as_str())
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(asked_from)
        .transpose()
}

/// The questions still open for these organisations' services: unanswered, in rounds not
/// closed and not past their last day, soonest deadline first.
pub async fn open_questions(
    db: &Db,
    organisations: &[&OrganisationId],
    today: NaiveDate,
) -> Result<Vec<(Asked, String, NaiveDate)>, sqlx::Error> {
    let mut found = Vec::new();
    for chunk in organisations.chunks(400) {
        let n = chunk.len();
        let sql = format!(
            "SELECT x.round_id, x.service_id, s.name AS service_name, s.kind, x.organisation_id, \
             o.name AS organisation_name, x.municipality_code, x.answered_at, x.answer, \
             x.reminded_at, '' AS answered_by_name, r.title, r.closes_on \
             FROM survey_answers x JOIN survey_rounds r ON r.id = x.round_id \
             JOIN services s ON s.id = x.service_id \
             JOIN organisations o ON o.id = x.organisation_id \
             WHERE x.organisation_id IN ({}) AND x.answered_at IS NULL \
             AND r.closed_at IS NULL AND r.closes_on >= ${} \
             ORDER BY r.closes_on, s.kana, s.id",
            codec::placeholders(n),
            n + 1
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query
            .bind(codec::date_to_db(today))
            .fetch_all(db.pool())
            .await?
        {
            let closes: String = row.try_get("closes_on")?;
            found.push((
                asked_from(&row)?,
                row.try_get("title")?,
                codec::date_from_db(&closes, "closes_on")?,
            ));
        }
    }
    Ok(found)
}

/// Records an answer, only while the round is open (checked in the same statement, so a
/// round closed meanwhile takes no answer). False when it did not.
pub async fn mark_answered(
    conn: &mut AnyConnection,
    round: &SurveyId,
    service: &ServiceId,
    answer: &str,
    account_id: &AccountId,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE survey_answers SET answered_at = $1, answered_by = $2, answer = $3 \
         WHERE round_id = $4 AND service_id = $5 AND EXISTS (SELECT 1 FROM survey_rounds r \
         WHERE r.id = $4 AND r.closed_at IS NULL AND r.closes_on >= $6)",
    )
    .bind(codec::instant_to_db(now))
    .bind(account_id.as_str())
    .bind(answer)
    .bind(round.as_str())
    .bind(service.as_str())
    .bind(codec::date_to_db(today))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the unanswered services of a round reminded now; returns them.
pub async fn remind(
    conn: &mut AnyConnection,
    round: &SurveyId,
    now: DateTime<Utc>,
) -> Result<Vec<(ServiceId, OrganisationId, String)>, sqlx::Error> {
    // The write first (SQLite takes its lock before any read).
    sqlx::query(
        "UPDATE survey_answers SET reminded_at = $1 WHERE round_id = $2 AND answered_at IS NULL",
    )
    .bind(codec::instant_to_db(now))
    .bind(round.as_str())
    .execute(&mut *conn)
    .await?;
    let rows = sqlx::query(
        "SELECT service_id, organisation_id, municipality_code FROM survey_answers \
         WHERE round_id = $1 AND answered_at IS NULL ORDER BY service_id",
    )
    .bind(round.as_str())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                ServiceId::from_stored(r.try_get(0)?),
                OrganisationId::from_stored(r.try_get(1)?),
                r.try_get(2)?,
            ))
        })
        .collect()
}

/// Closes a round now; false when it was closed already.
pub async fn close(
    conn: &mut AnyConnection,
    round: &SurveyId,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE survey_rounds SET closed_at = $1, closed_by = $2 WHERE id = $3 AND closed_at IS NULL",
    )
    .bind(codec::instant_to_db(now))
    .bind(account_id.as_str())
    .bind(round.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
