// Interop is scansign's independent peer for SM2: it makes SM2 signatures
// and envelopes with BouncyCastle 1.72 (the fixtures scansign must accept)
// and checks what scansign makes (the reverse direction). OpenSSL is the
// peer for RSA (see generate.sh). Usage:
//
//   java Interop generate PKI_DIR OUT_DIR      write the BouncyCastle fixtures
//   java Interop verify JOBS.tsv                name, sig, content|-, ca-cert: prints "name<TAB>VALID" or "name<TAB>INVALID: why"
//   java Interop decrypt JOBS.tsv               name, envelope, key.pem: prints "name<TAB>OK<TAB>hex(plaintext)" or "name<TAB>ERROR: why"
//   java Interop rawverify JOBS.tsv             name, sig (DER or r||s), message, cert: raw SM2 with the default user ID
//   java Interop sign JOBS.tsv                  name, content, key.pem, chain.pem, out: a detached SM2/SM3 CMS over the content, standard OIDs: prints "name<TAB>OK"
//   java Interop tamper IN OUT | flip IN OUT     make the tampered-content / flipped-signature fixtures
//
// Notes (see shared INTEROP-NOTES): BouncyCastle writes SM2 SignedData with
// standard OIDs directly. GM/T 0010 style needs the GM data content type in
// the signed attributes, SM2-1 (1.2.156.10197.1.301.1) as the signature
// algorithm and the outer ContentInfo re-wrapped with
// 1.2.156.10197.6.1.4.2.2. When verifying, BouncyCastle's name lookup
// cannot turn sm3 + 301.1 into an algorithm: we map it to SM3WITHSM2.
// BouncyCastle's CMS API cannot build SM2 EnvelopedData, so envelopes are
// assembled from its SM2Engine and SM4 cipher.

import java.io.*;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.security.*;
import java.security.cert.X509Certificate;
import java.util.*;

import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

import org.bouncycastle.asn1.*;
import org.bouncycastle.asn1.cms.*;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cms.*;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.crypto.engines.SM2Engine;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.ParametersWithRandom;
import org.bouncycastle.jcajce.provider.asymmetric.util.ECUtil;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.util.Store;

public class Interop {
    static final ASN1ObjectIdentifier GM_DATA = new ASN1ObjectIdentifier("1.2.156.10197.6.1.4.2.1");
    static final ASN1ObjectIdentifier GM_SIGNED = new ASN1ObjectIdentifier("1.2.156.10197.6.1.4.2.2");
    static final ASN1ObjectIdentifier GM_ENVELOPED = new ASN1ObjectIdentifier("1.2.156.10197.6.1.4.2.3");
    static final ASN1ObjectIdentifier SM2_1 = new ASN1ObjectIdentifier("1.2.156.10197.1.301.1");
    static final ASN1ObjectIdentifier SM2_3 = new ASN1ObjectIdentifier("1.2.156.10197.1.301.3");
    static final ASN1ObjectIdentifier SM3 = new ASN1ObjectIdentifier("1.2.156.10197.1.401");
    static final ASN1ObjectIdentifier SM4_CBC = new ASN1ObjectIdentifier("1.2.156.10197.1.104.2");

    /** The content every signature fixture signs (the guide's login nonce plus text). */
    static final byte[] CONTENT = "scansign interop 登录随机数 f7c54891-adad-4f32-9994-83d70a7204a2".getBytes(StandardCharsets.UTF_8);

    public static void main(String[] args) throws Exception {
        Security.addProvider(new BouncyCastleProvider());
        if (args.length < 2) {
            System.err.println("usage: Interop generate PKI OUT | verify JOBS | decrypt JOBS | rawverify JOBS | sign JOBS");
            System.exit(2);
        }
        switch (args[0]) {
            case "generate": generate(Paths.get(args[1]), Paths.get(args[2])); break;
            case "verify": forEachJob(args[1], Interop::verifyJob); break;
            case "decrypt": forEachJob(args[1], Interop::decryptJob); break;
            case "rawverify": forEachJob(args[1], Interop::rawVerifyJob); break;
            case "sign": forEachJob(args[1], Interop::signJob); break;
            case "tamper": { // IN OUT: change the nonce in the content (f7c54891 -> f7c54892)
                Files.write(Paths.get(args[2]), replace(Files.readAllBytes(Paths.get(args[1])), "f7c54891".getBytes(), "f7c54892".getBytes()));
                break;
            }
            case "flip": { // IN OUT: flip the last bit of the last byte (the signature value)
                byte[] b = Files.readAllBytes(Paths.get(args[1]));
                b[b.length - 1] ^= 1;
                Files.write(Paths.get(args[2]), b);
                break;
            }
            default: System.err.println("unknown command " + args[0]); System.exit(2);
        }
    }

    // ---------- loading ----------

    static X509Certificate cert(Path p) throws Exception {
        try (PEMParser r = new PEMParser(Files.newBufferedReader(p))) {
            X509CertificateHolder h = (X509CertificateHolder) r.readObject();
            return new JcaX509CertificateConverter().setProvider("BC").getCertificate(h);
        }
    }

    static PrivateKey key(Path p) throws Exception {
        try (PEMParser r = new PEMParser(Files.newBufferedReader(p))) {
            Object o = r.readObject();
            return new JcaPEMKeyConverter().setProvider("BC").getPrivateKey((PrivateKeyInfo) o);
        }
    }

    // ---------- generate ----------

    static void generate(Path pki, Path out) throws Exception {
        Files.createDirectories(out);
        Path leaves = pki.resolve("leaves");
        Files.write(out.resolve("content.txt"), CONTENT);
        for (String leaf : new String[]{"sm2-person", "sm2-org", "sm2-expired", "sm2-revoked", "sm2-untrusted"}) {
            X509Certificate c = cert(leaves.resolve(leaf + ".pem"));
            PrivateKey k = key(leaves.resolve(leaf + ".key.pem"));
            List<X509Certificate> chain = readChain(leaves.resolve(leaf + ".chain.pem"));
            boolean all = leaf.equals("sm2-person");
            for (boolean gm : new boolean[]{false, true}) {
                for (boolean detached : new boolean[]{false, true}) {
                    for (boolean attrs : new boolean[]{true, false}) {
                        for (boolean ski : new boolean[]{false, true}) {
                            // Every variant for one good leaf; the plain
                            // attached form for the others.
                            if (!all && (gm || detached || !attrs || ski)) continue;
                            String name = "bc-" + leaf + (gm ? "-gm" : "-std") + (detached ? "-detached" : "-attached")
                                    + (attrs ? "" : "-noattrs") + (ski ? "-ski" : "") + ".p7s";
                            byte[] der = sign(k, c, chain, gm, detached, attrs, ski);
                            Files.write(out.resolve(name), der);
                        }
                    }
                }
            }
        }
        // Negative fixtures made from good ones.
        byte[] good = Files.readAllBytes(out.resolve("bc-sm2-person-gm-attached.p7s"));
        Files.write(out.resolve("bc-sm2-tampered-content-gm-attached.p7s"), replace(good, "f7c54891".getBytes(), "f7c54892".getBytes()));
        byte[] flipped = good.clone();
        flipped[flipped.length - 1] ^= 0x01; // the last byte of the signature value
        Files.write(out.resolve("bc-sm2-flipped-signature-gm-attached.p7s"), flipped);
        byte[] goodNoAttrs = Files.readAllBytes(out.resolve("bc-sm2-person-std-attached-noattrs.p7s"));
        Files.write(out.resolve("bc-sm2-tampered-content-std-attached-noattrs.p7s"), replace(goodNoAttrs, "f7c54891".getBytes(), "f7c54892".getBytes()));

        // SM2 envelopes from BouncyCastle primitives, both OID styles.
        X509Certificate rc = cert(leaves.resolve("sm2-person.pem"));
        byte[] secret = "scansign interop 需加密的字符串 SM2 envelope".getBytes(StandardCharsets.UTF_8);
        Files.write(out.resolve("envelope-plaintext.txt"), secret);
        Files.write(out.resolve("bc-sm2-envelope-gm.p7m"), envelopeSM2(secret, rc, true));
        Files.write(out.resolve("bc-sm2-envelope-std.p7m"), envelopeSM2(secret, rc, false));
        // Raw SM2 encryption in the three layouts.
        Files.write(out.resolve("bc-sm2-raw-c1c3c2.bin"), rawEncrypt(secret, rc, SM2Engine.Mode.C1C3C2));
        Files.write(out.resolve("bc-sm2-raw-c1c2c3.bin"), rawEncrypt(secret, rc, SM2Engine.Mode.C1C2C3));
        Files.write(out.resolve("bc-sm2-raw-asn1.bin"), toSM2Cipher(rawEncrypt(secret, rc, SM2Engine.Mode.C1C3C2)));
    }

    static List<X509Certificate> readChain(Path p) throws Exception {
        List<X509Certificate> out = new ArrayList<>();
        try (PEMParser r = new PEMParser(Files.newBufferedReader(p))) {
            Object o;
            while ((o = r.readObject()) != null) {
                out.add(new JcaX509CertificateConverter().setProvider("BC").getCertificate((X509CertificateHolder) o));
            }
        }
        return out;
    }

    static byte[] replace(byte[] in, byte[] from, byte[] to) {
        byte[] out = in.clone();
        outer:
        for (int i = 0; i + from.length <= out.length; i++) {
            for (int j = 0; j < from.length; j++) if (out[i + j] != from[j]) continue outer;
            System.arraycopy(to, 0, out, i, to.length);
            return out;
        }
        throw new IllegalStateException("pattern not found");
    }

    /** A ContentSigner that reports SM2-1 (301.1) as its algorithm, as GM/T 0010 wants. */
    static ContentSigner gmSigner(ContentSigner inner) {
        return new ContentSigner() {
            public AlgorithmIdentifier getAlgorithmIdentifier() { return new AlgorithmIdentifier(SM2_1); }
            public OutputStream getOutputStream() { return inner.getOutputStream(); }
            public byte[] getSignature() { return inner.getSignature(); }
        };
    }

    static byte[] sign(PrivateKey k, X509Certificate c, List<X509Certificate> chain, boolean gm, boolean detached, boolean attrs, boolean ski) throws Exception {
        return sign(k, c, chain, gm, detached, attrs, ski, CONTENT);
    }

    static byte[] sign(PrivateKey k, X509Certificate c, List<X509Certificate> chain, boolean gm, boolean detached, boolean attrs, boolean ski, byte[] content) throws Exception {
        ContentSigner cs = new JcaContentSignerBuilder("SM3withSM2").setProvider("BC").build(k);
        JcaSignerInfoGeneratorBuilder b;
        if (gm) {
            cs = gmSigner(cs);
            // The signature algorithm field takes the signer's own identifier
            // (SM2-1), and the signed attributes are GM/T 0010's list:
            // contentType (GM data), signingTime, messageDigest — without
            // BouncyCastle's default CMSAlgorithmProtection attribute.
            b = new JcaSignerInfoGeneratorBuilder(new JcaDigestCalculatorProviderBuilder().setProvider("BC").build(), sigAlg -> sigAlg);
            b.setContentDigest(new AlgorithmIdentifier(SM3)); // 301.1 names no digest
            b.setSignedAttributeGenerator(params -> {
                ASN1EncodableVector v = new ASN1EncodableVector();
                v.add(new Attribute(CMSAttributes.contentType, new DERSet((ASN1ObjectIdentifier) params.get(CMSAttributeTableGenerator.CONTENT_TYPE))));
                v.add(new Attribute(CMSAttributes.signingTime, new DERSet(new Time(new Date()))));
                v.add(new Attribute(CMSAttributes.messageDigest, new DERSet(new DEROctetString((byte[]) params.get(CMSAttributeTableGenerator.DIGEST)))));
                return new AttributeTable(v);
            });
        } else {
            b = new JcaSignerInfoGeneratorBuilder(new JcaDigestCalculatorProviderBuilder().setProvider("BC").build());
        }
        b.setDirectSignature(!attrs);
        SignerInfoGenerator sig = ski
                ? b.build(cs, new org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils().createSubjectKeyIdentifier(c.getPublicKey()).getKeyIdentifier())
                : b.build(cs, c);
        CMSSignedDataGenerator gen = new CMSSignedDataGenerator();
        gen.addSignerInfoGenerator(sig);
        gen.addCertificates(new JcaCertStore(chain));
        CMSTypedData msg = gm ? new CMSProcessableByteArray(GM_DATA, content) : new CMSProcessableByteArray(content);
        CMSSignedData sd = gen.generate(msg, !detached);
        ContentInfo ci = sd.toASN1Structure();
        if (gm) {
            ci = new ContentInfo(GM_SIGNED, ci.getContent()); // re-wrap with the GM/T SignedData OID
        }
        return ci.getEncoded(ASN1Encoding.DER);
    }

    static byte[] rawEncrypt(byte[] msg, X509Certificate c, SM2Engine.Mode mode) throws Exception {
        ECPublicKeyParameters pub = (ECPublicKeyParameters) ECUtil.generatePublicKeyParameter(c.getPublicKey());
        SM2Engine e = new SM2Engine(mode);
        e.init(true, new ParametersWithRandom(pub, new SecureRandom()));
        return e.processBlock(msg, 0, msg.length);
    }

    /** C1C3C2 (with 04 prefix) to the GM/T 0009 SM2Cipher SEQUENCE. */
    static byte[] toSM2Cipher(byte[] c1c3c2) throws IOException {
        byte[] x = Arrays.copyOfRange(c1c3c2, 1, 33), y = Arrays.copyOfRange(c1c3c2, 33, 65);
        byte[] c3 = Arrays.copyOfRange(c1c3c2, 65, 97), c2 = Arrays.copyOfRange(c1c3c2, 97, c1c3c2.length);
        ASN1EncodableVector v = new ASN1EncodableVector();
        v.add(new ASN1Integer(new BigInteger(1, x)));
        v.add(new ASN1Integer(new BigInteger(1, y)));
        v.add(new DEROctetString(c3));
        v.add(new DEROctetString(c2));
        return new DERSequence(v).getEncoded(ASN1Encoding.DER);
    }

    /** SM2Cipher SEQUENCE back to C1C3C2 with the 04 prefix. */
    static byte[] fromSM2Cipher(byte[] der) {
        ASN1Sequence s = ASN1Sequence.getInstance(der);
        byte[] x = fixed(ASN1Integer.getInstance(s.getObjectAt(0)).getPositiveValue());
        byte[] y = fixed(ASN1Integer.getInstance(s.getObjectAt(1)).getPositiveValue());
        byte[] c3 = ASN1OctetString.getInstance(s.getObjectAt(2)).getOctets();
        byte[] c2 = ASN1OctetString.getInstance(s.getObjectAt(3)).getOctets();
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(4);
        o.writeBytes(x); o.writeBytes(y); o.writeBytes(c3); o.writeBytes(c2);
        return o.toByteArray();
    }

    static byte[] fixed(BigInteger v) {
        byte[] b = v.toByteArray(), out = new byte[32];
        int n = Math.min(b.length, 32);
        System.arraycopy(b, b.length - n, out, 32 - n, n);
        return out;
    }

    static byte[] envelopeSM2(byte[] plain, X509Certificate recipient, boolean gm) throws Exception {
        SecureRandom rnd = new SecureRandom();
        byte[] cek = new byte[16], iv = new byte[16];
        rnd.nextBytes(cek);
        rnd.nextBytes(iv);
        Cipher sm4 = Cipher.getInstance("SM4/CBC/PKCS5Padding", "BC");
        sm4.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(cek, "SM4"), new IvParameterSpec(iv));
        byte[] ct = sm4.doFinal(plain);
        byte[] encKey = toSM2Cipher(rawEncrypt(cek, recipient, SM2Engine.Mode.C1C3C2));
        X509CertificateHolder h = new X509CertificateHolder(recipient.getEncoded());
        KeyTransRecipientInfo ktri = new KeyTransRecipientInfo(
                new RecipientIdentifier(new IssuerAndSerialNumber(h.getIssuer(), h.getSerialNumber())),
                new AlgorithmIdentifier(SM2_3), new DEROctetString(encKey));
        EncryptedContentInfo eci = new EncryptedContentInfo(gm ? GM_DATA : CMSObjectIdentifiers.data,
                new AlgorithmIdentifier(SM4_CBC, new DEROctetString(iv)), new BEROctetString(ct));
        EnvelopedData ed = new EnvelopedData(null, new DERSet(new RecipientInfo(ktri)), eci, (ASN1Set) null);
        return new ContentInfo(gm ? GM_ENVELOPED : CMSObjectIdentifiers.envelopedData, ed).getEncoded(ASN1Encoding.DER);
    }

    // ---------- checking scansign's output ----------

    interface Job { String run(String[] f) throws Exception; }

    static void forEachJob(String jobs, Job job) throws Exception {
        for (String line : Files.readAllLines(Paths.get(jobs))) {
            if (line.isBlank()) continue;
            String[] f = line.split("\t");
            String verdict;
            try {
                verdict = job.run(f);
            } catch (Exception e) {
                verdict = "ERROR: " + e;
            }
            System.out.println(f[0] + "\t" + verdict.replace('\n', ' '));
        }
    }

    /** Maps sm3 + SM2-1 (GM/T 0010) to SM3WITHSM2, which BC's default lookup cannot. */
    static class GMNames extends DefaultCMSSignatureAlgorithmNameGenerator {
        @Override
        public String getSignatureName(AlgorithmIdentifier digestAlg, AlgorithmIdentifier encAlg) {
            if (encAlg.getAlgorithm().equals(SM2_1) || encAlg.getAlgorithm().equals(new ASN1ObjectIdentifier("1.2.156.10197.1.301"))) {
                return "SM3WITHSM2";
            }
            return super.getSignatureName(digestAlg, encAlg);
        }
    }

    /** f: name, signature file, content file or "-", issuing CA cert. */
    static String verifyJob(String[] f) throws Exception {
        byte[] der = Files.readAllBytes(Paths.get(f[1]));
        ContentInfo ci = ContentInfo.getInstance(ASN1Primitive.fromByteArray(der));
        if (ci.getContentType().equals(GM_SIGNED)) {
            ci = new ContentInfo(CMSObjectIdentifiers.signedData, ci.getContent());
        }
        CMSSignedData sd = f[2].equals("-") ? new CMSSignedData(ci)
                : new CMSSignedData(new CMSProcessableByteArray(Files.readAllBytes(Paths.get(f[2]))), ci);
        X509Certificate ca = cert(Paths.get(f[3]));
        Store<X509CertificateHolder> certs = sd.getCertificates();
        int n = 0;
        for (SignerInformation si : sd.getSignerInfos().getSigners()) {
            Collection<X509CertificateHolder> matches = certs.getMatches(si.getSID());
            if (matches.isEmpty()) return "INVALID: no certificate for the signer";
            X509CertificateHolder holder = matches.iterator().next();
            X509Certificate signerCert = new JcaX509CertificateConverter().setProvider("BC").getCertificate(holder);
            signerCert.verify(ca.getPublicKey(), "BC"); // issued by the expected CA
            SignerInformationVerifier v = new SignerInformationVerifier(new GMNames(),
                    new DefaultSignatureAlgorithmIdentifierFinder(),
                    new JcaContentVerifierProviderBuilder().setProvider("BC").build(holder),
                    new JcaDigestCalculatorProviderBuilder().setProvider("BC").build());
            if (!si.verify(v)) return "INVALID: signature does not verify";
            n++;
        }
        return n > 0 ? "VALID" : "INVALID: no signer";
    }

    /** f: name, envelope file, PKCS#8 key PEM. */
    static String decryptJob(String[] f) throws Exception {
        byte[] der = Files.readAllBytes(Paths.get(f[1]));
        PrivateKey k = key(Paths.get(f[2]));
        ContentInfo ci = ContentInfo.getInstance(ASN1Primitive.fromByteArray(der));
        EnvelopedData ed = EnvelopedData.getInstance(ci.getContent());
        KeyTransRecipientInfo ktri = KeyTransRecipientInfo.getInstance(ed.getRecipientInfos().getObjectAt(0).toASN1Primitive());
        if (!ktri.getKeyEncryptionAlgorithm().getAlgorithm().equals(SM2_3)) return "ERROR: key encryption " + ktri.getKeyEncryptionAlgorithm().getAlgorithm();
        SM2Engine e = new SM2Engine(SM2Engine.Mode.C1C3C2);
        e.init(false, (ECPrivateKeyParameters) ECUtil.generatePrivateKeyParameter(k));
        byte[] c = fromSM2Cipher(ktri.getEncryptedKey().getOctets());
        byte[] cek = e.processBlock(c, 0, c.length);
        EncryptedContentInfo eci = ed.getEncryptedContentInfo();
        if (!eci.getContentEncryptionAlgorithm().getAlgorithm().equals(SM4_CBC)) return "ERROR: content encryption " + eci.getContentEncryptionAlgorithm().getAlgorithm();
        byte[] iv = ASN1OctetString.getInstance(eci.getContentEncryptionAlgorithm().getParameters()).getOctets();
        Cipher sm4 = Cipher.getInstance("SM4/CBC/PKCS5Padding", "BC");
        sm4.init(Cipher.DECRYPT_MODE, new SecretKeySpec(cek, "SM4"), new IvParameterSpec(iv));
        byte[] plain = sm4.doFinal(eci.getEncryptedContent().getOctets());
        return "OK\t" + org.bouncycastle.util.encoders.Hex.toHexString(plain);
    }

    /**
     * f: name, content file, PKCS#8 key PEM, chain PEM (the signer first),
     * output file: BouncyCastle's own detached SignedData over the content
     * (standard OIDs, its default signed attributes), as another vendor's
     * app would answer a PDF seal's byte ranges.
     */
    static String signJob(String[] f) throws Exception {
        List<X509Certificate> chain = readChain(Paths.get(f[3]));
        byte[] der = sign(key(Paths.get(f[2])), chain.get(0), chain, false, true, true, false, Files.readAllBytes(Paths.get(f[1])));
        Files.write(Paths.get(f[4]), der);
        return "OK";
    }

    /** f: name, raw SM2 signature (DER or 64-byte r||s), message file, certificate. */
    static String rawVerifyJob(String[] f) throws Exception {
        byte[] sig = Files.readAllBytes(Paths.get(f[1]));
        byte[] msg = Files.readAllBytes(Paths.get(f[2]));
        if (sig.length == 64) {
            ASN1EncodableVector v = new ASN1EncodableVector();
            v.add(new ASN1Integer(new BigInteger(1, Arrays.copyOfRange(sig, 0, 32))));
            v.add(new ASN1Integer(new BigInteger(1, Arrays.copyOfRange(sig, 32, 64))));
            sig = new DERSequence(v).getEncoded(ASN1Encoding.DER);
        }
        Signature s = Signature.getInstance("SM3withSM2", "BC");
        s.initVerify(cert(Paths.get(f[3])).getPublicKey());
        s.update(msg);
        return s.verify(sig) ? "VALID" : "INVALID: signature does not verify";
    }
}
