// A real OpenID Connect provider for the sign-in tests: panva's certified `oidc-provider`
// (pinned in package.json) with its own login and consent pages, on 127.0.0.1 only.
//
//   node tests/oidc/provider.mjs PORT REDIRECT_URI
//
// One confidential client (id "hcc-explorer", secret from $OIDC_CLIENT_SECRET) whose only
// redirect URI is the app's /oauth2callback; one user, login "li.wei" (the provider's
// development login page asks for a password but does not check it; unknown logins are
// refused). Signing keys are generated at start-up and live only in memory.
// Prints "ready <issuer>" on stdout when it listens.
import { generateKeyPair, exportJWK } from "jose";
import Provider from "oidc-provider";

const [port, redirectUri] = process.argv.slice(2);
const clientSecret = process.env.OIDC_CLIENT_SECRET;
if (!port || !redirectUri || !clientSecret) {
  console.error("usage: OIDC_CLIENT_SECRET=.. node provider.mjs PORT REDIRECT_URI");
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

const USERS = {
  "li.wei": {
    sub: "u-0017",
    email: "li.wei@hospital.example",
    email_verified: true,
    name: "Dr Li Wei",
    preferred_username: "li.wei",
  },
};

const { privateKey } = await generateKeyPair("RS256", { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: "test-key", alg: "RS256", use: "sig" };

const provider = new Provider(issuer, {
  clients: [{
    client_id: "hcc-explorer",
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [redirectUri],
    grant_types: ["authorization_code"],
    response_types: ["code"],
  }],
  jwks: { keys: [jwk] },
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "preferred_username"],
  },
  // The ID token carries the claims (Streamlit reads st.user from the ID token).
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  cookies: { keys: [clientSecret] },
  async findAccount(ctx, id) {
    const user = USERS[id];
    if (!user) return undefined;
    return { accountId: id, async claims() { return { ...user }; } };
  },
});
provider.proxy = false;

provider.on("server_error", (ctx, err) => console.error("server_error", err));
provider.listen(Number(port), "127.0.0.1", () => console.log(`ready ${issuer}`));
