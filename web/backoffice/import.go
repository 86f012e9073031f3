package backoffice

// ImportRoute is the import page's upload, which has web's import body
// limit (a register file may be larger than a form).
const ImportRoute = "/coop/:coop/import"
