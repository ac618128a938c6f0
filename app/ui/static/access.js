/* The ACL page of mara-acl 2.1.1 deletes users and changes roles with GET links, which the server answers as
 * POST only (app/access.py): a link can be followed from anywhere, a POST from another site is refused.
 * Here the delete links and the role inputs send their change as a POST form instead.
 */
(function () {
    var DELETE_LINK = 'a[href*="/delete-user/"]';

    function post(url) {
        var form = document.createElement('form');
        form.method = 'post';
        form.action = url;
        document.body.appendChild(form);
        form.submit();
    }

    document.addEventListener('click', function (event) {
        var link = event.target.closest && event.target.closest(DELETE_LINK);
        if (link) {
            event.preventDefault();
            post(link.href);
        }
    }, true);

    // Capturing on the document runs before mara's handler on the input, which would follow a GET link.
    document.addEventListener('change', function (event) {
        var input = event.target;
        var cell = input.closest && input.closest('.user-role-input') && input.closest('td.user');
        var link = cell && cell.querySelector(DELETE_LINK);
        if (!link) {
            return;
        }
        event.stopImmediatePropagation();
        var email = decodeURIComponent(link.getAttribute('href').split('/delete-user/')[1]);
        post(aclBaseUrl + '/change-user-role/' + encodeURIComponent(email) + '/' + encodeURIComponent(input.value));
    }, true);
})();
