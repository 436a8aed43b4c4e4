"""Reading the inputs: files found and parsed, text anchors checked, SHACL validation."""
