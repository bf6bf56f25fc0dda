//! The OpenAPI document: the routes' own `#[utoipa::path]` docs (collected by `OpenApiRouter`
//! as the routes are registered) plus the parts that belong to no route.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "judge",
        description = "The judging service: problems, submissions, results, and sandboxed runs. \
            Every /v1 route needs `Authorization: Bearer TOKEN` (a submitter or admin token; \
            `judge token add`). Errors are `{\"error\":{\"code\",\"message\"}}`."
    ),
    modifiers(&BearerAuth),
    components(schemas(super::error::ErrorBody, super::error::ErrorDetail)),
    tags(
        (name = "problems", description = "Problem packages"),
        (name = "submissions", description = "Submissions and their results"),
        (name = "run", description = "Sandboxed runs"),
        (name = "service", description = "Languages, health, metrics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}
