"""GitHub REST path templates of releases, their assets and the token's account: one home
for each, expanded with ``Client.url`` (docs.github.com/rest/releases)."""

RELEASES = "/repos/{owner}/{repo}/releases"
RELEASE = "/repos/{owner}/{repo}/releases/{release_id}"
RELEASE_BY_TAG = "/repos/{owner}/{repo}/releases/tags/{tag}"
LATEST_RELEASE = "/repos/{owner}/{repo}/releases/latest"
ASSETS = "/repos/{owner}/{repo}/releases/{release_id}/assets"
ASSET = "/repos/{owner}/{repo}/releases/assets/{asset_id}"
USER = "/user"
