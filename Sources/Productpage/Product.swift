/// The one book bookinfo sells (spec §2.4).
enum Product {
    static let id = 0
    static let title = "The Comedy of Errors"
    static let descriptionHtml =
        #"<a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: The Comedy of Errors is one of <b>William Shakespeare's</b> early plays. It is his shortest and one of his most farcical comedies, with a major part of the humour coming from slapstick and mistaken identity, in addition to puns and word play."#

    /// `GET /api/v1/products`, serialised as Python's json module does (`", "` and `": "`).
    static let listJSON =
        "[{\"id\": 0, \"title\": \"The Comedy of Errors\", \"descriptionHtml\": "
        + PythonJSON.quote(descriptionHtml) + "}]"
}
