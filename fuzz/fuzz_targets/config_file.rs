//! Config files (`cctoken::config_file`): ASP.NET `appsettings.json` and MSAL Python configs,
//! JSON with comments and trailing commas, then on to a token endpoint and scopes as the npm
//! loader does.
#![no_main]

use cctoken::config_file::parse_config_file;
use cctoken::ErrorKind;
use cctoken_fuzz::{check_error, check_settings, text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = text(data);
    match parse_config_file(&input) {
        Ok(settings) => check_settings(&settings),
        Err(error) => {
            check_error(&error);
            assert_eq!(error.kind(), ErrorKind::InvalidConfig);
            assert_eq!(error.field(), Some("configFile"));
        }
    }
});
