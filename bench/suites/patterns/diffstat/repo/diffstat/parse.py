def split_files(text):
    """{path: [hunk lines]} of a unified diff, in order; paths from the +++ lines."""
    files, current = {}, None
    for line in text.splitlines():
        if line.startswith("+++ "):
            path = line[4:].split("\t")[0]
            current = files.setdefault(path[2:] if path.startswith("b/") else path, [])
        elif line.startswith("--- "):
            continue
        elif current is not None and line[:1] in "+- @":
            current.append(line)
    return files
