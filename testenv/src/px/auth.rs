//! Bearer JWT auth as the OpenStorage SDK server does it: HS256 tokens signed with the
//! shared secret, roles from the `roles` claim, no header means guest.
use super::model::{Code, SdkError, err};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "operator.portworx.io";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    View,
    Guest,
}

impl Role {
    /// system.view may enumerate, inspect, read stats and status; only admin may write.
    pub fn may_write(self) -> bool {
        self == Role::Admin
    }
    pub fn may_read(self) -> bool {
        self != Role::Guest
    }
}

pub fn token(secret: &[u8], role: &str, name: &str, valid_secs: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        iss: ISSUER.into(),
        sub: format!("{name}@sextant.invalid"),
        exp: now + valid_secs,
        iat: now,
        name: name.into(),
        email: format!("{name}@sextant.invalid"),
        roles: vec![role.into()],
        groups: vec!["*".into()],
    };
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("HS256 encoding cannot fail")
}

/// The role of a request from its Authorization header value, if any.
pub fn role(secret: &[u8], header: Option<&str>) -> Result<Role, SdkError> {
    let Some(header) = header else {
        return Ok(Role::Guest);
    };
    let (scheme, tok) = header.split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || tok.trim().is_empty() {
        return Err(err(
            Code::Unauthenticated,
            "Request unauthenticated with bearer",
        ));
    }
    let mut v = Validation::new(Algorithm::HS256);
    v.set_issuer(&[ISSUER]);
    v.set_required_spec_claims(&["iss", "sub", "exp", "iat"]);
    let data =
        decode::<Claims>(tok.trim(), &DecodingKey::from_secret(secret), &v).map_err(|e| {
            err(
                Code::Unauthenticated,
                format!("Failed to authenticate token: {e}"),
            )
        })?;
    let roles = data.claims.roles;
    Ok(if roles.iter().any(|r| r == "system.admin") {
        Role::Admin
    } else if roles
        .iter()
        .any(|r| r == "system.view" || r == "system.user")
    {
        Role::View
    } else {
        Role::Guest
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_from_tokens() {
        let s = b"secret";
        assert_eq!(
            role(
                s,
                Some(&format!("bearer {}", token(s, "system.admin", "a", 60)))
            ),
            Ok(Role::Admin)
        );
        assert_eq!(
            role(
                s,
                Some(&format!("Bearer {}", token(s, "system.view", "v", 60)))
            ),
            Ok(Role::View)
        );
        assert_eq!(role(s, None), Ok(Role::Guest));
        let forged = token(b"other", "system.admin", "x", 60);
        assert_eq!(
            role(s, Some(&format!("bearer {forged}"))).unwrap_err().code,
            Code::Unauthenticated
        );
        let expired = token(s, "system.admin", "x", -3600);
        assert_eq!(
            role(s, Some(&format!("bearer {expired}")))
                .unwrap_err()
                .code,
            Code::Unauthenticated
        );
    }
}
