"""A test client that gets an Entra SSH certificate the way `az ssh cert` does (Azure CLI ssh
extension): a fresh RSA key pair, a device-code sign-in (or a refresh token) against the tenant,
then POST /token with token_type=ssh-cert, req_cnf (the RSA JWK of the public key), key_id and
scope https://pas.windows.net/CheckMyAccess/Linux/.default; the answer's access_token is the
certificate blob, written as `ssh-rsa-cert-v01@openssh.com <blob>` next to the key. The stock
OpenSSH client then logs in with -i KEY -o CertificateFile=CERT."""
import json
import os
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "fakeidp"))

from cryptography.hazmat.primitives import serialization  # noqa: E402

import sshcert  # noqa: E402
from entra_fake import CLIENT_ID, TENANT  # noqa: E402

AZ_CLIENT_ID = CLIENT_ID   # the fake registers one public client; az uses its own well-known id


class CertClient:
    def __init__(self, fake, directory, tenant=TENANT, client_id=AZ_CLIENT_ID):
        self.fake, self.dir, self.tenant, self.client_id = fake, pathlib.Path(directory), tenant, client_id
        self.dir.mkdir(parents=True, exist_ok=True)
        self.key = sshcert.new_user_key()
        self.key_path = self.dir / "id_rsa"
        self.key_path.write_bytes(self.key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.OpenSSH,
                                                         serialization.NoEncryption()))
        os.chmod(self.key_path, 0o600)
        self.cert_path = self.dir / "id_rsa-aadcert.pub"
        self.refresh_token = None
        self.response = None

    def _token(self, form):
        cnf, kid = sshcert.req_cnf(self.key.public_key())
        form = dict(form, client_id=self.client_id, token_type="ssh-cert", req_cnf=cnf, key_id=kid,
                    scope=("" if form.get("grant_type") == "client_credentials" else "openid offline_access ")
                    + sshcert.SCOPE)
        st, _h, raw = self.fake.http("POST", f"{self.fake.authority}/{self.tenant}/oauth2/v2.0/token", form=form)
        body = json.loads(raw)
        if st != 200:
            raise RuntimeError(f"token endpoint: {st} {body}")
        self.response = body
        self.refresh_token = body.get("refresh_token", self.refresh_token)
        if body.get("token_type") != "ssh-cert":
            raise RuntimeError(f"not an ssh-cert answer: {body.get('token_type')}")
        self.cert_path.write_text(sshcert.CERT_TYPE + " " + body["access_token"] + "\n")
        return self.cert_path

    def device_code(self, upn, **approval):
        """Sign in by device code (the fake approves at once as upn) and fetch a certificate."""
        self.fake.auto("approve", upn=upn, **approval)
        st, _h, raw = self.fake.http("POST", f"{self.fake.authority}/{self.tenant}/oauth2/v2.0/devicecode",
                                     form={"client_id": self.client_id,
                                           "scope": "openid offline_access " + sshcert.SCOPE})
        dc = json.loads(raw)
        if st != 200:
            raise RuntimeError(f"devicecode: {st} {dc}")
        return self._token({"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                            "device_code": dc["device_code"]})

    def service_principal(self, app_id, secret="s3cret"):
        """`az login --service-principal -u APP -p SECRET; az ssh cert`: client_credentials grant."""
        self.client_id = app_id
        return self._token({"grant_type": "client_credentials", "client_secret": secret})

    def refresh(self):
        """A new certificate from the refresh token (what az does on every `az ssh vm`)."""
        return self._token({"grant_type": "refresh_token", "refresh_token": self.refresh_token})
