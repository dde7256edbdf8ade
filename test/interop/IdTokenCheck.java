// Verifies ID tokens as a Java site using google-oauth-java-client would, for
// google-oauth-client.test.ts. Arguments: the issuer, then pairs of audience and ID token. Prints
// one line per token, "verified" or "refused"; the library logs why it refused on standard error.
import com.google.api.client.auth.openidconnect.IdToken;
import com.google.api.client.auth.openidconnect.IdTokenVerifier;
import com.google.api.client.json.gson.GsonFactory;
import java.util.List;

public class IdTokenCheck {
  public static void main(String[] args) throws Exception {
    String issuer = args[0];
    for (int i = 1; i + 1 < args.length; i += 2) {
      // A verifier per token, as a site starting afresh: each fetches the JWKS itself.
      IdTokenVerifier verifier = new IdTokenVerifier.Builder()
          .setIssuer(issuer)
          .setAudience(List.of(args[i]))
          .setCertificatesLocation(issuer + "/jwks")
          .build();
      IdToken token = IdToken.parse(GsonFactory.getDefaultInstance(), args[i + 1]);
      System.out.println(verifier.verify(token) ? "verified" : "refused");
    }
  }
}
