"""A tiny hand-written O*NET text release (same files, columns, tabs, CRLF and `n/a` as the
real one) for the catalog's job deconstruction tests."""

import zipfile
from pathlib import Path

DATA_SCIENTISTS = "15-2051.00"

FILES: dict[str, list[str]] = {
    "Read Me.txt": ["O*NET 29.2 Database", "February 2025 Release"],
    "Occupation Data.txt": [
        "O*NET-SOC Code\tTitle\tDescription",
        "15-2051.00\tData Scientists\tDevelop and implement a set of techniques or analytics.",
        "11-1011.00\tChief Executives\tDetermine and formulate policies.",
    ],
    "Task Statements.txt": [
        "O*NET-SOC Code\tTask ID\tTask\tTask Type\tIncumbents Responding\tDate\tDomain Source",
        "15-2051.00\t100\tAnalyze data with statistical methods.\tCore\t20\t08/2023\tIncumbent",
        "15-2051.00\t101\tWrite reports on findings.\tCore\t20\t08/2023\tIncumbent",
        "15-2051.00\t102\tAttend conferences.\tSupplemental\t20\t08/2023\tIncumbent",
        '15-2051.00\t103\tClean "messy" data sets.\tn/a\tn/a\t08/2023\tAnalyst',
        "15-2051.00\t104\tGreet visitors.\tCore\t20\t08/2023\tIncumbent",
        "11-1011.00\t200\tDirect the organization.\tCore\t30\t08/2023\tIncumbent",
    ],
    "Tasks to DWAs.txt": [
        "O*NET-SOC Code\tTask ID\tDWA ID\tDate\tDomain Source",
        "15-2051.00\t100\t4.A.2.a.4.I01.D01\t07/2014\tAnalyst",
        "15-2051.00\t101\t4.A.4.a.2.I01.D01\t07/2014\tAnalyst",
        "15-2051.00\t101\t4.A.2.a.4.I01.D01\t07/2014\tAnalyst",
        "15-2051.00\t102\t4.A.4.a.2.I01.D01\t07/2014\tAnalyst",
        "15-2051.00\t103\t4.A.2.a.4.I01.D02\t07/2014\tAnalyst",
        "15-2051.00\t104\t4.A.4.a.8.I01.D01\t07/2014\tAnalyst",
        "11-1011.00\t200\t4.A.2.a.4.I01.D01\t07/2014\tAnalyst",
    ],
    "DWA Reference.txt": [
        "Element ID\tIWA ID\tDWA ID\tDWA Title",
        "4.A.2.a.4\t4.A.2.a.4.I01\t4.A.2.a.4.I01.D01\tAnalyze business or financial data.",
        "4.A.2.a.4\t4.A.2.a.4.I01\t4.A.2.a.4.I01.D02\tPrepare data for analysis.",
        "4.A.4.a.2\t4.A.4.a.2.I01\t4.A.4.a.2.I01.D01\tPrepare research reports.",
        "4.A.4.a.8\t4.A.4.a.8.I01\t4.A.4.a.8.I01.D01\tGreet customers or visitors.",
    ],
    "Skills to Work Activities.txt": [
        "Skills Element ID\tSkills Element Name\tWork Activities Element ID\t"
        "Work Activities Element Name",
        "2.B.3.e\tProgramming\t4.A.2.a.4\tAnalyzing Data or Information",
        "2.A.1.e\tMathematics\t4.A.2.a.4\tAnalyzing Data or Information",
        "2.A.1.c\tWriting\t4.A.4.a.2\tCommunicating with Supervisors, Peers, or Subordinates",
        "2.A.1.d\tSpeaking\t4.A.4.a.2\tCommunicating with Supervisors, Peers, or Subordinates",
        "2.B.1.a\tSocial Perceptiveness\t4.A.4.a.8\tPerforming for or Working Directly with "
        "the Public",
    ],
    "Skills.txt": [
        "O*NET-SOC Code\tElement ID\tElement Name\tScale ID\tData Value\tN\tStandard Error\t"
        "Lower CI Bound\tUpper CI Bound\tRecommend Suppress\tNot Relevant\tDate\tDomain Source",
        *(
            f"15-2051.00\t{element}\t{name}\t{scale}\t{value}\t8\t0.1250\t3.8800\t4.3700\t"
            f"{suppress}\t{relevant}\t08/2023\tAnalyst"
            for element, name, scale, value, suppress, relevant in [
                ("2.B.3.e", "Programming", "IM", "4.25", "N", "n/a"),
                ("2.B.3.e", "Programming", "LV", "5.50", "N", "N"),
                ("2.A.1.e", "Mathematics", "IM", "3.00", "N", "n/a"),
                ("2.A.1.e", "Mathematics", "LV", "3.50", "N", "N"),
                ("2.A.1.c", "Writing", "IM", "3.75", "N", "n/a"),
                ("2.A.1.c", "Writing", "LV", "0.20", "N", "N"),
                ("2.A.1.d", "Speaking", "IM", "2.88", "N", "n/a"),
                ("2.A.1.d", "Speaking", "LV", "4.00", "N", "N"),
                ("2.B.1.a", "Social Perceptiveness", "IM", "3.50", "Y", "n/a"),
                ("2.B.1.a", "Social Perceptiveness", "LV", "3.00", "Y", "N"),
            ]
        ),
    ],
    "Related Occupations.txt": [
        "O*NET-SOC Code\tRelated O*NET-SOC Code\tRelatedness Tier\tIndex",
        "11-1011.00\t11-2021.00\tPrimary-Short\t1",
        "11-1011.00\t15-2051.00\tPrimary-Short\t2",
        "15-2051.00\t11-1011.00\tPrimary-Short\t1",
    ],
    "Technology Skills.txt": [
        "O*NET-SOC Code\tExample\tCommodity Code\tCommodity Title\tHot Technology\tIn Demand",
        "15-2051.00\tPython\t43232402\tProgram development software\tY\tY",
        "15-2051.00\tR\t43232402\tProgram development software\tY\tY",
        "15-2051.00\tSAS\t43232612\tData base user interface\tY\tN",
        "15-2051.00\tMicrosoft Excel\t43232110\tSpreadsheet software\tY\tN",
        "15-2051.00\tTableau\t43232105\tBusiness intelligence\tY\tN",
        "15-2051.00\tStructured query language SQL\t43232612\tData base user interface\tY\tN",
        "15-2051.00\tC++\t43232402\tProgram development software\tN\tN",
        "15-2051.00\tNotepad\t43232106\tText editor\tN\tN",
        "11-1011.00\tMicrosoft Excel\t43232110\tSpreadsheet software\tY\tN",
        "11-1011.00\tPython\t43232402\tProgram development software\tN\tN",
        "11-1011.00\tC\t43232402\tProgram development software\tN\tN",
    ],
}


def write_onet_release(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in FILES.items():
        (folder / name).write_bytes(("\r\n".join(lines) + "\r\n").encode())
    return folder


def zip_onet_release(folder: Path) -> Path:
    """The release zipped as O*NET ships it, inside a db_29_2_text/ folder."""
    path = folder / "db_29_2_text.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, lines in FILES.items():
            archive.writestr(f"db_29_2_text/{name}", "\r\n".join(lines) + "\r\n")
    return path
