/*
 * OwlCheck: what an ontology editor's tools say about a set of OWL documents.
 *
 * Loads each document with the OWL API (imports resolved only through XML catalogs, never
 * from the network), checks the OWL 2 DL profile (OWL2DLProfile, what ROBOT's
 * validate-profile uses) and the OWL 2 RL profile (reported only), and runs HermiT in its
 * DEFAULT Configuration (unsupported datatypes such as xsd:gYear are an error, as in ROBOT
 * and every OWL API program; Protégé's plugin is the one that ignores them) over the union
 * of all documents and their imports. Prints one JSON object on stdout.
 *
 * Usage: java -cp JARS:DIR OwlCheck [--catalog catalog-v001.xml]... FILE...
 * A catalog-v001.xml next to an input file is read too (as Protégé does).
 * Exit status: 0 all clean; 1 findings (a violation, an inconsistency, an unsatisfiable
 * class, an error); 2 bad arguments.
 *
 * Written against the API common to OWL API 3.4 to 5.1 and HermiT 1.3 to 1.4, so it runs
 * on whichever jars the test harness finds (tests/test_owl_tools.py).
 */

import java.io.File;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import javax.xml.parsers.DocumentBuilderFactory;

import org.semanticweb.HermiT.Configuration;
import org.semanticweb.HermiT.Reasoner;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.model.IRI;
import org.semanticweb.owlapi.model.OWLAxiom;
import org.semanticweb.owlapi.model.OWLClass;
import org.semanticweb.owlapi.model.OWLImportsDeclaration;
import org.semanticweb.owlapi.model.OWLObject;
import org.semanticweb.owlapi.model.OWLOntology;
import org.semanticweb.owlapi.model.OWLOntologyAlreadyExistsException;
import org.semanticweb.owlapi.model.OWLOntologyID;
import org.semanticweb.owlapi.model.OWLOntologyIRIMapper;
import org.semanticweb.owlapi.model.OWLOntologyManager;
import org.semanticweb.owlapi.profiles.OWL2DLProfile;
import org.semanticweb.owlapi.profiles.OWL2RLProfile;
import org.semanticweb.owlapi.profiles.OWLProfile;
import org.semanticweb.owlapi.profiles.OWLProfileViolation;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

public final class OwlCheck {

    private static final String MERGED_IRI = "urn:crinkkg:owlcheck:merged";
    private static final int MAX_MESSAGE = 4000;

    /** Maps ontology IRIs to local files from XML catalogs; refuses everything else. */
    static final class CatalogMapper implements OWLOntologyIRIMapper {
        final Map<String, File> entries = new LinkedHashMap<>();
        final List<String> catalogs = new ArrayList<>();
        final Set<String> unmapped = new LinkedHashSet<>();
        final File nowhere;

        CatalogMapper() {
            nowhere = new File(System.getProperty("java.io.tmpdir"),
                    "owlcheck-never-fetches-" + System.nanoTime());
        }

        void read(File catalog) throws Exception {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setNamespaceAware(true);
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            org.w3c.dom.Document doc = factory.newDocumentBuilder().parse(catalog);
            NodeList uris = doc.getElementsByTagNameNS("*", "uri");
            File base = catalog.getAbsoluteFile().getParentFile();
            for (int i = 0; i < uris.getLength(); i++) {
                Element uri = (Element) uris.item(i);
                String name = uri.getAttribute("name");
                String target = uri.getAttribute("uri");
                if (name.isEmpty() || target.isEmpty()) {
                    continue;
                }
                File file = target.startsWith("file:")
                        ? new File(java.net.URI.create(target))
                        : new File(base, target);
                entries.putIfAbsent(name, file.getCanonicalFile());
            }
            catalogs.add(catalog.getPath());
        }

        @Override
        public IRI getDocumentIRI(IRI ontologyIRI) {
            File file = entries.get(ontologyIRI.toString());
            if (file != null) {
                return IRI.create(file);
            }
            if (ontologyIRI.toString().startsWith("file:")) {
                return ontologyIRI;
            }
            unmapped.add(ontologyIRI.toString());
            // A local path that does not exist: the load fails here instead of going online.
            return IRI.create(new File(nowhere, Integer.toHexString(ontologyIRI.hashCode())));
        }
    }

    public static void main(String[] args) {
        if (args.length == 4 && args[0].equals("--save-as")) {
            saveAs(args[1], new File(args[2]), new File(args[3]));
            return;
        }
        List<File> files = new ArrayList<>();
        List<File> catalogFiles = new ArrayList<>();
        boolean separately = false;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--catalog") && i + 1 < args.length) {
                catalogFiles.add(new File(args[++i]).getAbsoluteFile());
            } else if (args[i].equals("--separately")) {
                separately = true;
            } else if (args[i].startsWith("--")) {
                usage("unknown option " + args[i]);
            } else {
                files.add(new File(args[i]));
            }
        }
        if (files.isEmpty()) {
            usage("no ontology file given");
        }
        for (File f : files) {
            if (!f.isFile()) {
                usage("no such file: " + f);
            }
        }
        System.out.println(run(files, catalogFiles, separately));
        System.exit(exitStatus);
    }

    private static int exitStatus = 0;

    /** Write the ontology document {@code in} as {@code format} (owlxml or rdfxml) to
     *  {@code out}, as Protégé (which saves through the OWL API) would. */
    private static void saveAs(String format, File out, File in) {
        try {
            OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
            OWLOntology ontology = manager.loadOntologyFromOntologyDocument(in);
            org.semanticweb.owlapi.model.OWLDocumentFormat target;
            if (format.equals("owlxml")) {
                target = new org.semanticweb.owlapi.formats.OWLXMLDocumentFormat();
            } else if (format.equals("rdfxml")) {
                target = new org.semanticweb.owlapi.formats.RDFXMLDocumentFormat();
            } else {
                usage("--save-as takes owlxml or rdfxml, not " + format);
                return;
            }
            org.semanticweb.owlapi.model.OWLDocumentFormat source =
                    manager.getOntologyFormat(ontology);
            if (source != null && source.isPrefixOWLDocumentFormat()) {
                target.asPrefixOWLDocumentFormat().copyPrefixesFrom(
                        source.asPrefixOWLDocumentFormat());
            }
            manager.saveOntology(ontology, target, IRI.create(out.getAbsoluteFile().toURI()));
            System.exit(0);
        } catch (Exception e) {
            System.err.println("OwlCheck: cannot save " + in + " as " + format + ": " + e);
            System.exit(1);
        }
    }

    private static void usage(String problem) {
        System.err.println("OwlCheck: " + problem);
        System.err.println("usage: java -cp JARS:DIR OwlCheck [--catalog catalog-v001.xml]..."
                + " [--separately] FILE...");
        System.exit(2);
    }

    /** A mapper reading the given catalogs and the catalog-v001.xml next to each file. */
    private static CatalogMapper mapperFor(List<File> catalogFiles, List<File> files,
                                           Set<String> errors) {
        List<File> all = new ArrayList<>(catalogFiles);
        for (File f : files) {
            File sibling = new File(f.getAbsoluteFile().getParentFile(), "catalog-v001.xml");
            if (sibling.isFile() && !all.contains(sibling)) {
                all.add(sibling);
            }
        }
        CatalogMapper mapper = new CatalogMapper();
        for (File c : all) {
            try {
                mapper.read(c);
            } catch (Exception e) {
                errors.add("catalog " + c + " could not be read: " + message(e)
                        + " (fix the XML or leave it out)");
            }
        }
        return mapper;
    }

    /**
     * Loads the files (into one OWL API manager, or with separately one manager per file, as
     * when each is opened alone in Protégé), checks each and their union; returns the JSON.
     */
    static String run(List<File> files, List<File> catalogFiles, boolean separately) {
        Json out = new Json();
        Set<String> errors = new LinkedHashSet<>();
        List<CatalogMapper> mappers = new ArrayList<>();
        List<OWLOntologyManager> managers = new ArrayList<>();
        for (int i = 0; i < (separately ? files.size() : 1); i++) {
            CatalogMapper mapper = mapperFor(catalogFiles,
                    separately ? files.subList(i, i + 1) : files, errors);
            OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
            manager.addIRIMapper(mapper);
            mappers.add(mapper);
            managers.add(manager);
        }

        out.open();
        out.key("tools").open();
        out.key("owlapi").value(version(OWLManager.class, "net.sourceforge.owlapi", "owlapi-api",
                "owlapi-distribution"));
        out.key("hermit").value(version(Reasoner.class, "net.sourceforge.owlapi",
                "org.semanticweb.hermit", null));
        out.key("hermit_configuration").value("default (new Configuration())");
        out.close();
        out.key("separately").value(separately);
        out.key("catalogs").open();
        Set<String> seen = new HashSet<>();
        for (CatalogMapper mapper : mappers) {
            for (Map.Entry<String, File> e : mapper.entries.entrySet()) {
                if (seen.add(e.getKey())) {
                    out.key(e.getKey()).value(e.getValue().getPath());
                }
            }
        }
        out.close();

        List<OWLOntology> loaded = new ArrayList<>();
        out.key("documents").array();
        for (int i = 0; i < files.size(); i++) {
            File file = files.get(i);
            CatalogMapper mapper = mappers.get(separately ? i : 0);
            OWLOntologyManager manager = managers.get(separately ? i : 0);
            out.open();
            out.key("file").value(file.getPath());
            out.key("catalog_files").array();
            for (String c : mapper.catalogs) {
                out.value(c);
            }
            out.close();
            OWLOntology ont = null;
            int before = mapper.unmapped.size();
            try {
                ont = manager.loadOntologyFromOntologyDocument(file.getAbsoluteFile());
            } catch (OWLOntologyAlreadyExistsException e) {
                ont = manager.getOntology(e.getOntologyID());
            } catch (Throwable e) {
                String why = "could not load " + file + ": " + message(e);
                List<String> missing = new ArrayList<>(mapper.unmapped);
                if (missing.size() > before) {
                    why = "could not load " + file + ": owl:imports "
                            + missing.subList(before, missing.size())
                            + " not mapped to a local file by any catalog (read: "
                            + mapper.catalogs + "); add a catalog-v001.xml next to the file"
                            + " (Protégé reads that one) with a <uri name=\"IRI\""
                            + " uri=\"relative/path.ttl\"/> entry. This check never fetches"
                            + " from the network";
                }
                errors.add(why);
                out.key("error").value(why);
            }
            if (ont != null) {
                if (!loaded.contains(ont)) {
                    loaded.add(ont);
                }
                OWLOntologyID id = ont.getOntologyID();
                out.key("ontology").value(id.isAnonymous() ? null : iriOf(id, false));
                out.key("version").value(id.isAnonymous() ? null : iriOf(id, true));
                out.key("imports").array();
                for (OWLImportsDeclaration d : ont.getImportsDeclarations()) {
                    out.value(d.getIRI().toString());
                }
                out.close();
                out.key("axioms").value(ont.getAxiomCount());
                Set<OWLOntology> closure = ont.getImportsClosure();
                out.key("imports_closure").value(closure.size());
                profile(out, "OWL2_DL", new OWL2DLProfile(), ont, true);
                profile(out, "OWL2_RL", new OWL2RLProfile(), ont, true);
            }
            out.close();
        }
        out.close();

        OWLOntology merged = null;
        if (!loaded.isEmpty()) {
            try {
                Set<OWLAxiom> axioms = new HashSet<>();
                for (OWLOntology o : loaded) {
                    for (OWLOntology inClosure : o.getImportsClosure()) {
                        axioms.addAll(inClosure.getAxioms());
                    }
                }
                merged = OWLManager.createOWLOntologyManager()
                        .createOntology(axioms, IRI.create(MERGED_IRI));
            } catch (Throwable e) {
                errors.add("could not merge the documents: " + message(e));
            }
        }
        out.key("merged").open();
        if (merged != null) {
            out.key("axioms").value(merged.getAxiomCount());
            boolean dl = profile(out, "OWL2_DL", new OWL2DLProfile(), merged, false);
            profile(out, "OWL2_RL", new OWL2RLProfile(), merged, false);
            boolean clean = hermit(out, merged) && dl;
            if (!clean) {
                exitStatus = 1;
            }
        }
        out.close();
        out.key("errors").array();
        for (String e : errors) {
            out.value(e);
        }
        out.close();
        out.close();
        if (!errors.isEmpty() || merged == null) {
            exitStatus = 1;
        }
        return out.toString();
    }

    /** Runs HermiT with the default Configuration; true when consistent and all satisfiable. */
    private static boolean hermit(Json out, OWLOntology ontology) {
        out.key("hermit").open();
        Reasoner reasoner = null;
        Boolean consistent = null;
        List<String> unsatisfiable = new ArrayList<>();
        String error = null;
        String errorType = null;
        try {
            reasoner = new Reasoner(new Configuration(), ontology);
            consistent = reasoner.isConsistent();
            if (consistent) {
                Set<String> names = new TreeSet<>();
                for (OWLClass c : reasoner.getUnsatisfiableClasses().getEntitiesMinusBottom()) {
                    names.add(c.getIRI().toString());
                }
                unsatisfiable.addAll(names);
            }
        } catch (Throwable e) {
            errorType = e.getClass().getName();
            error = message(e);
        } finally {
            if (reasoner != null) {
                reasoner.dispose();
            }
        }
        out.key("consistent").value(consistent);
        out.key("unsatisfiable").array();
        for (String c : unsatisfiable) {
            out.value(c);
        }
        out.close();
        out.key("error_type").value(errorType);
        out.key("error").value(error);
        out.close();
        return Boolean.TRUE.equals(consistent) && unsatisfiable.isEmpty() && error == null;
    }

    /**
     * Checks one profile and writes its violations. With ownOnly, only the violations found
     * in this ontology itself (not in what it imports) are listed, so that each document's
     * report names its own problems. Returns whether the ontology (with imports) is in it.
     */
    private static boolean profile(Json out, String name, OWLProfile profile, OWLOntology ont,
                                   boolean ownOnly) {
        out.key(name).open();
        List<OWLProfileViolation> violations;
        try {
            violations = new ArrayList<>(profile.checkOntology(ont).getViolations());
        } catch (Throwable e) {
            out.key("error").value(message(e));
            out.close();
            return false;
        }
        List<OWLProfileViolation> listed = new ArrayList<>();
        for (OWLProfileViolation v : violations) {
            if (!ownOnly || v.getOntologyID().equals(ont.getOntologyID())) {
                listed.add(v);
            }
        }
        out.key("in_profile").value(violations.isEmpty());
        out.key("violations_in_imports").value(violations.size() - listed.size());
        out.key("violations").array();
        for (OWLProfileViolation v : listed) {
            out.open();
            out.key("type").value(v.getClass().getSimpleName());
            OWLAxiom axiom = v.getAxiom();
            out.key("axiom").value(axiom == null ? null : axiom.toString());
            out.key("entity").value(subject(v));
            out.key("message").value(clip(v.toString()));
            out.close();
        }
        out.close();
        out.close();
        return violations.isEmpty();
    }

    /** The entity or expression a violation is about (the getter differs by OWL API version). */
    private static String subject(OWLProfileViolation v) {
        for (Method m : v.getClass().getMethods()) {
            if (m.getParameterCount() != 0 || m.getDeclaringClass() == Object.class) {
                continue;
            }
            String n = m.getName();
            if (n.equals("getAxiom") || n.equals("getOntology") || n.equals("getOntologyID")
                    || n.equals("getImportsClosure") || n.equals("getClass")) {
                continue;
            }
            boolean candidate = n.equals("getExpression")
                    || OWLObject.class.isAssignableFrom(m.getReturnType())
                    || m.getReturnType() == IRI.class;
            if (!candidate) {
                continue;
            }
            try {
                Object value = m.invoke(v);
                if (value != null) {
                    return value.toString();
                }
            } catch (Exception ignored) {
                // not a getter after all: try the next one
            }
        }
        return null;
    }

    private static String iriOf(OWLOntologyID id, boolean version) {
        // OWL API 3 returns IRI, OWL API 4+ Optional<IRI>; both print through toString().
        try {
            Object v = OWLOntologyID.class.getMethod(version ? "getVersionIRI" : "getOntologyIRI")
                    .invoke(id);
            if (v == null) {
                return null;
            }
            if (v instanceof java.util.Optional) {
                java.util.Optional<?> o = (java.util.Optional<?>) v;
                return o.isPresent() ? o.get().toString() : null;
            }
            if (v.getClass().getName().equals("com.google.common.base.Optional")) {
                Method present = v.getClass().getMethod("isPresent");
                present.setAccessible(true);
                if (!((Boolean) present.invoke(v))) {
                    return null;
                }
                Method get = v.getClass().getMethod("get");
                get.setAccessible(true);
                return get.invoke(v).toString();
            }
            return v.toString();
        } catch (Exception e) {
            return null;
        }
    }

    private static String version(Class<?> cls, String group, String artifact, String alt) {
        for (String a : new String[] {artifact, alt}) {
            if (a == null) {
                continue;
            }
            String path = "/META-INF/maven/" + group + "/" + a + "/pom.properties";
            try (java.io.InputStream in = cls.getResourceAsStream(path)) {
                if (in != null) {
                    java.util.Properties p = new java.util.Properties();
                    p.load(in);
                    return p.getProperty("version");
                }
            } catch (java.io.IOException ignored) {
                // unknown version: fall through
            }
        }
        String v = cls.getPackage() == null ? null : cls.getPackage().getImplementationVersion();
        if (v != null) {
            return v;
        }
        java.security.CodeSource src = cls.getProtectionDomain().getCodeSource();
        return src == null ? null : new File(src.getLocation().getPath()).getName();
    }

    private static String message(Throwable e) {
        StringBuilder b = new StringBuilder();
        Set<Throwable> seen = new HashSet<>();
        for (Throwable t = e; t != null && seen.add(t); t = t.getCause()) {
            String m = t.getMessage();
            if (t != e && m != null && b.indexOf(m.trim()) >= 0) {
                continue;
            }
            if (b.length() > 0) {
                b.append(" <- ");
            }
            b.append(t.getClass().getSimpleName());
            if (m != null) {
                m = m.trim().replaceAll("\\s+", " ");
                String prefix = t.getClass().getSimpleName() + ": ";
                while (m.startsWith(prefix) || m.startsWith(t.getClass().getName() + ": ")) {
                    m = m.substring(m.indexOf(": ") + 2);
                }
                b.append(": ").append(m);
            }
        }
        return clip(b.toString());
    }

    private static String clip(String s) {
        return s.length() <= MAX_MESSAGE ? s : s.substring(0, MAX_MESSAGE) + " [...]";
    }

    /** A minimal JSON writer: objects, arrays, strings, numbers, booleans, null. */
    static final class Json {
        private final StringBuilder b = new StringBuilder();
        private final List<Character> stack = new ArrayList<>();
        private boolean needComma = false;
        private boolean afterKey = false;

        private void sep() {
            if (afterKey) {
                afterKey = false;
                return;
            }
            if (needComma) {
                b.append(',');
            }
        }

        Json open() {
            sep();
            b.append('{');
            stack.add('}');
            needComma = false;
            return this;
        }

        Json array() {
            sep();
            b.append('[');
            stack.add(']');
            needComma = false;
            return this;
        }

        Json close() {
            b.append(stack.remove(stack.size() - 1));
            needComma = true;
            return this;
        }

        Json key(String k) {
            sep();
            string(k);
            b.append(':');
            afterKey = true;
            return this;
        }

        Json value(Object v) {
            sep();
            if (v == null) {
                b.append("null");
            } else if (v instanceof Boolean || v instanceof Integer || v instanceof Long) {
                b.append(v);
            } else {
                string(v.toString());
            }
            needComma = true;
            return this;
        }

        private void string(String s) {
            b.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"': b.append("\\\""); break;
                    case '\\': b.append("\\\\"); break;
                    case '\n': b.append("\\n"); break;
                    case '\r': b.append("\\r"); break;
                    case '\t': b.append("\\t"); break;
                    default:
                        if (c < 0x20) {
                            b.append(String.format("\\u%04x", (int) c));
                        } else {
                            b.append(c);
                        }
                }
            }
            b.append('"');
        }

        @Override
        public String toString() {
            return b.toString();
        }
    }

    private OwlCheck() {
    }
}
